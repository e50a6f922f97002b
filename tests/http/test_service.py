"""HTTP tests of what an operator configures: the config file (file < env < flags), collection
defaults from it, the startup banner and access log, CORS, /dashboard, /optimizations."""

import os
import shutil
import tempfile
import unittest

from tessera_server import ServerTestCase, TesseraServer
from test_collections import assert_ok


class ConfigTest(unittest.TestCase):
    def test_file_then_env_then_flags(self):
        folder = tempfile.mkdtemp(prefix="tessera-config-")
        try:
            config = os.path.join(folder, "config.yaml")
            with open(config, "w") as f:
                f.write("log_level: DEBUG\n"
                        "service:\n  http_port: 1\n  enable_cors: false\n  unheard_of: 3\n"
                        "storage:\n  hnsw_index:\n    m: 24\n    ef_construct: 64\n"
                        "  wal:\n    wal_capacity_mb: 8\n"
                        "cluster:\n  enabled: false\n")
            # The file says port 1; the environment says another; the flag (from TesseraServer) wins.
            server = TesseraServer(args=["--config-path", config],
                                   env={"QDRANT__STORAGE__HNSW_INDEX__EF_CONSTRUCT": "80",
                                        "QDRANT__SERVICE__HTTP_PORT": "2"})
            with server:
                assert_ok(self, *server.request("PUT", "/collections/c", {"vectors": {"size": 2, "distance": "Dot"}})[:2])
                params = assert_ok(self, *server.request("GET", "/collections/c")[:2])["config"]
                self.assertEqual(params["hnsw_config"]["m"], 24)            # file
                self.assertEqual(params["hnsw_config"]["ef_construct"], 80)  # env over file
                self.assertEqual(params["wal_config"]["wal_capacity_mb"], 8)
                # A request's own fields win over the defaults.
                assert_ok(self, *server.request("PUT", "/collections/d", {"vectors": {"size": 2, "distance": "Dot"},
                                                                           "hnsw_config": {"m": 4}})[:2])
                self.assertEqual(assert_ok(self, *server.request("GET", "/collections/d")[:2])["config"]["hnsw_config"]["m"], 4)
                _, _, headers = server.request("GET", "/collections")
                self.assertNotIn("Access-Control-Allow-Origin", headers)  # enable_cors: false
                log = server.read_log()
            self.assertIn("config file " + config, log)
            self.assertIn("config storage.hnsw_index.m: 24", log)
            self.assertIn("unknown key `service.unheard_of` ignored", log)
            self.assertNotIn("cluster.enabled", log.replace("config cluster", ""))
            self.assertRegex(log, r"DEBUG access 127\.0\.0\.1:\d+ GET /collections -> 200 ")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def test_bad_config_file_stops_startup_with_a_clear_message(self):
        folder = tempfile.mkdtemp(prefix="tessera-config-")
        try:
            config = os.path.join(folder, "config.yaml")
            with open(config, "w") as f:
                f.write("storage:\n  hnsw_index:\n    m: many\n")
            server = TesseraServer(args=["--config-path", config])
            with self.assertRaises(RuntimeError) as e:
                server.start()
            self.assertIn("storage.hnsw_index.m", str(e.exception))
            server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


class ServiceTest(ServerTestCase):
    def test_cors_headers_and_preflight(self):
        _, _, headers = self.server.request("GET", "/collections", headers={"Origin": "http://ui.example"})
        self.assertEqual(headers["Access-Control-Allow-Origin"], "*")
        status, _, headers = self.server.request("OPTIONS", "/collections/x/points/search",
                                                 headers={"Origin": "http://ui.example",
                                                          "Access-Control-Request-Method": "POST"})
        self.assertEqual(status, 200)
        self.assertIn("POST", headers["Access-Control-Allow-Methods"])

    def test_dashboard_absent_then_served(self):
        status, body, _ = self.server.request("GET", "/dashboard")
        self.assertEqual(status, 404)
        self.assertIn("static_content_dir", body["status"]["error"])
        folder = tempfile.mkdtemp(prefix="tessera-static-")
        try:
            os.makedirs(os.path.join(folder, "assets"))
            with open(os.path.join(folder, "index.html"), "w") as f:
                f.write("<html>tessera ui</html>")
            with open(os.path.join(folder, "assets", "app.js"), "w") as f:
                f.write("console.log(1)")
            with TesseraServer(args=["--static-content-dir", folder, "--api-key", "k"]) as server:
                # Static files need no key (the UI asks for it); the API still does.
                status, body, headers = server.request("GET", "/dashboard")
                self.assertEqual((status, body), (200, "<html>tessera ui</html>"))
                self.assertTrue(headers["Content-Type"].startswith("text/html"))
                status, body, headers = server.request("GET", "/dashboard/assets/app.js")
                self.assertEqual((status, body, headers["Content-Type"]), (200, "console.log(1)", "text/javascript"))
                status, body, _ = server.request("GET", "/dashboard/collections/some")  # app route
                self.assertEqual((status, body), (200, "<html>tessera ui</html>"))
                for bad in ("/dashboard/../config/config.yaml", "/dashboard/%2E%2E/x.txt",
                            "/dashboard/assets/%2F..%2F..%2Fetc%2Fpasswd", "/dashboard/.hidden.js",
                            "/dashboard/missing.js"):
                    status, _, _ = server.request("GET", bad)
                    self.assertEqual(status, 404, bad)
                self.assertEqual(server.request("GET", "/collections")[0], 401)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def test_optimizations(self):
        assert_ok(self, *self.req("PUT", "/collections/opt", {"vectors": {"size": 2, "distance": "Dot"}}))
        assert_ok(self, *self.req("PUT", "/collections/opt/points?wait=true",
                                  {"points": [{"id": i, "vector": [1.0, float(i)]} for i in range(5)]}))
        result = assert_ok(self, *self.req("GET", "/collections/opt/optimizations?with=queued,idle_segments,completed"))
        summary = result["summary"]
        self.assertEqual(set(summary), {"queued_optimizations", "queued_segments", "queued_points", "idle_segments"})
        self.assertEqual(summary["queued_points"], 0)  # 5 points: far below the indexing threshold
        self.assertEqual(result["running"], [])
        self.assertEqual(result["queued"], [])
        self.assertEqual(result["completed"], [])
        self.assertEqual(sum(s["points_count"] for s in result["idle_segments"]), 5)
        self.assertNotIn("queued", assert_ok(self, *self.req("GET", "/collections/opt/optimizations")))
        self.assertEqual(self.req("GET", "/collections/none/optimizations")[0], 404)


if __name__ == "__main__":
    unittest.main()
