"""HTTP tests of the service and collections API against the real binary.

Shapes and codes follow ../shared/reference/qdrant-openapi.json."""

import http.client
import json
import os
import shutil
import signal
import socket
import time
import tempfile
import unittest

from tessera_server import ServerTestCase, TesseraServer, free_port

SPEC = os.path.join(os.path.dirname(__file__), "../../../shared/reference/qdrant-openapi.json")


def assert_ok(test, status, body):
    test.assertEqual(status, 200, body)
    test.assertEqual(body["status"], "ok")
    test.assertIsInstance(body["time"], float)
    return body["result"]


def assert_error(test, status, body, code, *fragments):
    test.assertEqual(status, code, body)
    test.assertNotIn("result", body)
    test.assertIsInstance(body["status"]["error"], str)
    test.assertIsInstance(body["time"], float)
    for fragment in fragments:
        test.assertIn(fragment, body["status"]["error"])


class ServiceTest(ServerTestCase):

    def test_root_reports_a_version_the_official_clients_accept(self):
        status, body, _ = self.server.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertEqual(set(body), {"title", "version", "commit"})
        major, minor, _ = body["version"].split(".")
        self.assertEqual((major, minor), ("1", "19"))

    def test_health_endpoints(self):
        for path, text in [("/healthz", "healthz check passed"), ("/livez", "healthz check passed"),
                           ("/readyz", "all shards are ready")]:
            status, body, headers = self.server.request("GET", path)
            self.assertEqual(status, 200, path)
            self.assertEqual(body, text)
            self.assertTrue(headers["Content-Type"].startswith("text/plain"))

    def test_unknown_path_and_method(self):
        status, body, _ = self.server.request("GET", "/no/such/route")
        assert_error(self, status, body, 404)
        status, body, _ = self.server.request("POST", "/collections")
        assert_error(self, status, body, 405)

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        sock_ids = set()
        for _ in range(5):
            conn.request("GET", "/collections")
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            json.loads(resp.read())
            sock_ids.add(id(conn.sock))
        self.assertEqual(len(sock_ids), 1)
        conn.close()

    def test_pipelined_requests_are_answered_in_order(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"
            s.sendall(req)
            data = b""
            while data.count(b"HTTP/1.1 200") < 2 or not data.endswith(b"ready"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        self.assertLess(data.index(b"healthz check passed"), data.index(b"all shards are ready"))

    def test_a_header_trickling_in_is_cut_off_and_holds_no_worker(self):
        # Slowloris: a byte a second never finishes the header; the server closes the
        # connection after its 10 s header deadline and serves others all the while.
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=20) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            closed = False
            while time.monotonic() - started < 16:
                status, _ = self.req("GET", "/healthz")  # another client, served meanwhile
                self.assertEqual(status, 200)
                try:
                    s.sendall(b"X")
                    s.settimeout(1.0)
                    if s.recv(1) == b"":
                        closed = True
                        break
                except socket.timeout:
                    continue
                except OSError:
                    closed = True
                    break
            self.assertTrue(closed, "a trickling header kept its connection")
            self.assertGreater(time.monotonic() - started, 8)


class CollectionsTest(ServerTestCase):

    def tearDown(self):
        _, body = self.req("GET", "/collections")
        for c in body["result"]["collections"]:
            self.req("DELETE", f"/collections/{c['name']}")

    def test_lifecycle_of_a_single_vector_collection(self):
        status, body = self.req("PUT", "/collections/books",
                                {"vectors": {"size": 4, "distance": "Cosine"}})
        self.assertIs(assert_ok(self, status, body), True)

        info = assert_ok(self, *self.req("GET", "/collections/books"))
        self.assertEqual(info["status"], "green")
        self.assertEqual(info["points_count"], 0)
        self.assertEqual(info["indexed_vectors_count"], 0)
        self.assertIn("segments_count", info)
        self.assertEqual(info["payload_schema"], {})
        self.assertEqual(info["config"]["params"]["vectors"], {"size": 4, "distance": "Cosine"})
        self.assertEqual(info["config"]["hnsw_config"]["m"], 16)
        self.assertEqual(info["config"]["hnsw_config"]["ef_construct"], 100)
        self.assertEqual(info["config"]["optimizer_config"]["deleted_threshold"], 0.2)
        self.assertEqual(info["config"]["wal_config"]["wal_capacity_mb"], 32)

        listed = assert_ok(self, *self.req("GET", "/collections"))
        self.assertEqual(listed, {"collections": [{"name": "books"}]})
        self.assertEqual(assert_ok(self, *self.req("GET", "/collections/books/exists")),
                         {"exists": True})
        self.assertIs(assert_ok(self, *self.req("DELETE", "/collections/books")), True)
        self.assertEqual(assert_ok(self, *self.req("GET", "/collections/books/exists")),
                         {"exists": False})
        # Deleting what is not there answers false, as Qdrant does.
        self.assertIs(assert_ok(self, *self.req("DELETE", "/collections/books")), False)

    def test_named_vectors_and_every_config_section_are_stored(self):
        body = {
            "vectors": {"image": {"size": 3, "distance": "Euclid"},
                        "text": {"size": 5, "distance": "Manhattan", "on_disk": True,
                                 "hnsw_config": {"m": 8}}},
            "hnsw_config": {"m": 32, "ef_construct": 64},
            "optimizers_config": {"indexing_threshold": 0, "deleted_threshold": 0.5},
            "wal_config": {"wal_capacity_mb": 4},
            "on_disk_payload": False,
            "metadata": {"team": "search"},
        }
        assert_ok(self, *self.req("PUT", "/collections/multi?timeout=10", body))
        config = assert_ok(self, *self.req("GET", "/collections/multi"))["config"]
        self.assertEqual(config["params"]["vectors"]["image"], {"size": 3, "distance": "Euclid"})
        self.assertEqual(config["params"]["vectors"]["text"],
                         {"size": 5, "distance": "Manhattan", "on_disk": True,
                          "hnsw_config": {"m": 8}})
        self.assertFalse(config["params"]["on_disk_payload"])
        self.assertEqual(config["hnsw_config"]["m"], 32)
        self.assertEqual(config["hnsw_config"]["ef_construct"], 64)
        self.assertEqual(config["optimizer_config"]["indexing_threshold"], 0)
        self.assertEqual(config["optimizer_config"]["deleted_threshold"], 0.5)
        self.assertEqual(config["wal_config"]["wal_capacity_mb"], 4)
        self.assertEqual(config["metadata"], {"team": "search"})

    def test_every_distance_is_accepted(self):
        for distance in ["Cosine", "Euclid", "Dot", "Manhattan"]:
            name = "d_" + distance.lower()
            assert_ok(self, *self.req("PUT", f"/collections/{name}",
                                      {"vectors": {"size": 2, "distance": distance}}))
            info = assert_ok(self, *self.req("GET", f"/collections/{name}"))
            self.assertEqual(info["config"]["params"]["vectors"]["distance"], distance)

    def test_patch_updates_config(self):
        assert_ok(self, *self.req("PUT", "/collections/p", {"vectors": {"size": 2, "distance": "Dot"}}))
        update = {"optimizers_config": {"indexing_threshold": 123},
                  "hnsw_config": {"ef_construct": 77},
                  "params": {"replication_factor": 2},
                  "vectors": {"": {"hnsw_config": {"m": 4}}},
                  "metadata": {"a": 1}}
        self.assertIs(assert_ok(self, *self.req("PATCH", "/collections/p", update)), True)
        config = assert_ok(self, *self.req("GET", "/collections/p"))["config"]
        self.assertEqual(config["optimizer_config"]["indexing_threshold"], 123)
        self.assertEqual(config["hnsw_config"]["ef_construct"], 77)
        self.assertEqual(config["params"]["replication_factor"], 2)
        self.assertEqual(config["params"]["vectors"]["hnsw_config"], {"m": 4})
        self.assertEqual(config["metadata"], {"a": 1})

        status, body = self.req("PATCH", "/collections/p", {"vectors": {"nope": {"on_disk": True}}})
        assert_error(self, status, body, 400, "nope")
        status, body = self.req("PATCH", "/collections/p",
                                {"optimizers_config": {"deleted_threshold": 7}})
        assert_error(self, status, body, 422, "deleted_threshold")
        status, body = self.req("PATCH", "/collections/missing", {"hnsw_config": {"m": 4}})
        assert_error(self, status, body, 404, "missing")
        config_after = assert_ok(self, *self.req("GET", "/collections/p"))["config"]
        self.assertEqual(config_after, config)

    def test_the_default_vector_by_its_empty_name(self):
        # The web UI's template declares the default vector as {"": {...}}; Qdrant takes it so.
        assert_ok(self, *self.req("PUT", "/collections/dflt", {"vectors": {"": {"size": 2, "distance": "Dot"}}}))
        assert_ok(self, *self.req("PUT", "/collections/dflt/points?wait=true", {"points": [
            {"id": 1, "vector": {"": [1, 2]}}, {"id": 2, "vector": [3, 4]}]}))
        hits = assert_ok(self, *self.req("POST", "/collections/dflt/points/query",
                                         {"query": [1, 0], "with_vector": True}))["points"]
        self.assertEqual([(h["id"], h["vector"]) for h in hits], [(2, [3, 4]), (1, [1, 2])])
        # Beside named vectors: a point with only the default one reads back as a plain array.
        assert_ok(self, *self.req("PUT", "/collections/dflt2", {"vectors": {
            "": {"size": 2, "distance": "Dot"}, "b": {"size": 3, "distance": "Cosine"}}}))
        assert_ok(self, *self.req("PUT", "/collections/dflt2/points?wait=true", {"points": [
            {"id": 1, "vector": {"": [1, 2], "b": [1, 2, 3]}}, {"id": 2, "vector": [3, 4]}]}))
        got = assert_ok(self, *self.req("POST", "/collections/dflt2/points", {"ids": [1, 2], "with_vector": True}))
        self.assertEqual({p["id"]: p["vector"] for p in got}, {1: {"": [1, 2], "b": [0.26726124, 0.5345225, 0.8017837]},
                                                               2: [3, 4]})
        for name in ("dflt", "dflt2"):
            assert_ok(self, *self.req("DELETE", f"/collections/{name}"))

    def test_errors_have_qdrants_codes_and_shape(self):
        ok = {"vectors": {"size": 4, "distance": "Dot"}}
        assert_ok(self, *self.req("PUT", "/collections/e", ok))
        status, body = self.req("PUT", "/collections/e", ok)
        assert_error(self, status, body, 409, "already exists")
        status, body = self.req("GET", "/collections/none")
        assert_error(self, status, body, 404, "Not found: Collection `none` doesn't exist!")
        status, body = self.req("PUT", "/collections/x", raw='{"vectors": {"size": 4,')
        assert_error(self, status, body, 400, "Json deserialize error")
        status, body = self.req("PUT", "/collections/x", raw="")
        assert_error(self, status, body, 400, "Json deserialize error")
        status, body = self.req("PUT", "/collections/x", {"vectors": {"size": "4", "distance": "Dot"}})
        assert_error(self, status, body, 400, "vectors.size")
        status, body = self.req("PUT", "/collections/x", {"vectors": {"size": 4, "distance": "L2"}})
        assert_error(self, status, body, 400, "unknown variant `L2`")
        status, body = self.req("PUT", "/collections/x", {"vectors": {"size": 0, "distance": "Dot"}})
        assert_error(self, status, body, 422, "Validation error", "vectors.size")
        status, body = self.req("PUT", "/collections/x",
                                {"vectors": {"size": 4, "distance": "Dot"}, "hnsw_config": {"ef_construct": 1}})
        assert_error(self, status, body, 422, "ef_construct")
        for bad in ["..", "a%2Fb", "a%5Cb", "x%00y", "a%3Fb", "a*b", "x" * 256]:
            status, body = self.req("PUT", f"/collections/{bad}", ok)
            assert_error(self, status, body, 422, "collection name")
        # Nothing was created by any rejected request.
        listed = assert_ok(self, *self.req("GET", "/collections"))
        self.assertEqual(listed, {"collections": [{"name": "e"}]})

    def test_aliases(self):
        for name in ["a", "b"]:
            assert_ok(self, *self.req("PUT", f"/collections/{name}",
                                      {"vectors": {"size": 2, "distance": "Dot"}}))
        actions = {"actions": [{"create_alias": {"collection_name": "a", "alias_name": "x"}},
                               {"create_alias": {"collection_name": "b", "alias_name": "y"}}]}
        self.assertIs(assert_ok(self, *self.req("POST", "/collections/aliases", actions)), True)
        self.assertEqual(assert_ok(self, *self.req("GET", "/aliases")),
                         {"aliases": [{"alias_name": "x", "collection_name": "a"},
                                      {"alias_name": "y", "collection_name": "b"}]})
        self.assertEqual(assert_ok(self, *self.req("GET", "/collections/a/aliases")),
                         {"aliases": [{"alias_name": "x", "collection_name": "a"}]})
        # An alias resolves wherever a collection name is accepted.
        info = assert_ok(self, *self.req("GET", "/collections/x"))
        self.assertEqual(info["config"]["params"]["vectors"]["size"], 2)
        self.assertEqual(assert_ok(self, *self.req("GET", "/collections/x/exists")), {"exists": True})

        rename = {"actions": [{"rename_alias": {"old_alias_name": "x", "new_alias_name": "z"}}]}
        assert_ok(self, *self.req("POST", "/collections/aliases", rename))
        # All or nothing: the delete of a missing alias undoes the create before it.
        failing = {"actions": [{"create_alias": {"collection_name": "a", "alias_name": "w"}},
                               {"delete_alias": {"alias_name": "missing"}}]}
        status, body = self.req("POST", "/collections/aliases", failing)
        assert_error(self, status, body, 404, "missing")
        status, body = self.req("POST", "/collections/aliases",
                                {"actions": [{"create_alias": {"collection_name": "nope", "alias_name": "q"}}]})
        assert_error(self, status, body, 404, "nope")
        status, body = self.req("POST", "/collections/aliases", {"actions": "x"})
        assert_error(self, status, body, 400)
        self.assertEqual(assert_ok(self, *self.req("GET", "/aliases")),
                         {"aliases": [{"alias_name": "y", "collection_name": "b"},
                                      {"alias_name": "z", "collection_name": "a"}]})
        status, body = self.req("GET", "/collections/nope/aliases")
        assert_error(self, status, body, 404)
        # Deleting a collection drops its aliases.
        assert_ok(self, *self.req("DELETE", "/collections/b"))
        self.assertEqual(assert_ok(self, *self.req("GET", "/aliases")),
                         {"aliases": [{"alias_name": "z", "collection_name": "a"}]})


class LifecycleTest(unittest.TestCase):
    def test_collections_and_aliases_survive_a_restart(self):
        storage = tempfile.mkdtemp(prefix="tessera-restart-")
        try:
            with TesseraServer(storage=storage) as server:
                server.request("PUT", "/collections/kept",
                               {"vectors": {"size": 7, "distance": "Euclid"}, "hnsw_config": {"m": 12}})
                server.request("POST", "/collections/aliases",
                               {"actions": [{"create_alias": {"collection_name": "kept", "alias_name": "k"}}]})
            with TesseraServer(storage=storage) as server:
                status, body, _ = server.request("GET", "/collections/k")
                info = assert_ok(self, status, body)
                self.assertEqual(info["config"]["params"]["vectors"], {"size": 7, "distance": "Euclid"})
                self.assertEqual(info["config"]["hnsw_config"]["m"], 12)
        finally:
            shutil.rmtree(storage, ignore_errors=True)

    def test_sigterm_stops_gracefully(self):
        server = TesseraServer().start()
        try:
            code = server.stop(signal.SIGTERM)
            self.assertEqual(code, 0)
            self.assertIn("stopped", server.read_log())
        finally:
            shutil.rmtree(server.storage, ignore_errors=True)

    def test_qdrant_environment_variables_configure_the_server(self):
        storage = tempfile.mkdtemp(prefix="tessera-env-")
        port = free_port()
        env = {"QDRANT__SERVICE__HTTP_PORT": str(port), "QDRANT__SERVICE__HOST": "127.0.0.1",
               "QDRANT__STORAGE__STORAGE_PATH": storage, "QDRANT__SERVICE__API_KEY": "secret"}
        server = TesseraServer(storage=storage, env=env, port=port)
        try:
            server.start(use_flags=False)
            status, body, _ = server.request("GET", "/collections")
            assert_error(self, status, body, 401)
            status, body, _ = server.request("PUT", "/collections/c",
                                             {"vectors": {"size": 2, "distance": "Dot"}},
                                             headers={"api-key": "secret"})
            assert_ok(self, status, body)
            self.assertTrue(os.path.isdir(os.path.join(storage, "collections", "c")))
        finally:
            server.stop()
            shutil.rmtree(storage, ignore_errors=True)

    def test_api_keys(self):
        with TesseraServer(args=["--api-key", "full", "--read-only-api-key", "ro"]) as server:
            create = {"vectors": {"size": 2, "distance": "Dot"}}
            status, body, _ = server.request("PUT", "/collections/c", create)
            assert_error(self, status, body, 401, "API key")
            status, body, _ = server.request("PUT", "/collections/c", create, headers={"api-key": "wrong"})
            assert_error(self, status, body, 401)
            status, body, _ = server.request("PUT", "/collections/c", create, headers={"api-key": "ro"})
            assert_error(self, status, body, 403)
            status, body, _ = server.request("PUT", "/collections/c", create,
                                             headers={"Authorization": "Bearer full"})
            assert_ok(self, status, body)
            status, body, _ = server.request("GET", "/collections/c", headers={"api-key": "ro"})
            assert_ok(self, status, body)
            for open_path in ["/healthz", "/livez", "/readyz", "/"]:
                status, _, _ = server.request("GET", open_path)
                self.assertEqual(status, 200, open_path)

    def test_body_over_the_limit_is_refused_with_400(self):
        with TesseraServer(args=["--max-request-size-mb", "1"]) as server:
            big = '{"vectors": {"size": 2, "distance": "Dot"}, "metadata": {"x": "' + "a" * (2 << 20) + '"}}'
            status, body, _ = server.request("PUT", "/collections/big", raw=big)
            assert_error(self, status, body, 400, "larger than allowed")
            status, body, _ = server.request("GET", "/collections/big/exists")
            self.assertEqual(assert_ok(self, status, body), {"exists": False})


class SpecTest(unittest.TestCase):
    """Every route we serve exists in Qdrant's spec with the same method."""

    def test_served_routes_are_in_the_spec(self):
        if not os.path.exists(SPEC):
            self.skipTest("shared/reference not present")
        with open(SPEC) as f:
            paths = json.load(f)["paths"]
        served = [("get", "/"), ("get", "/healthz"), ("get", "/livez"), ("get", "/readyz"),
                  ("get", "/collections"), ("get", "/collections/{collection_name}"),
                  ("put", "/collections/{collection_name}"), ("patch", "/collections/{collection_name}"),
                  ("delete", "/collections/{collection_name}"),
                  ("get", "/collections/{collection_name}/exists"), ("post", "/collections/aliases"),
                  ("get", "/aliases"), ("get", "/collections/{collection_name}/aliases"),
                  ("get", "/metrics"), ("get", "/telemetry"), ("get", "/cluster"),
                  ("put", "/collections/{collection_name}/index"),
                  ("delete", "/collections/{collection_name}/index/{field_name}"),
                  ("put", "/collections/{collection_name}/points"), ("post", "/collections/{collection_name}/points"),
                  ("get", "/collections/{collection_name}/points/{id}"),
                  ("post", "/collections/{collection_name}/points/delete"),
                  ("put", "/collections/{collection_name}/points/vectors"),
                  ("post", "/collections/{collection_name}/points/vectors/delete"),
                  ("post", "/collections/{collection_name}/points/payload"),
                  ("put", "/collections/{collection_name}/points/payload"),
                  ("post", "/collections/{collection_name}/points/payload/delete"),
                  ("post", "/collections/{collection_name}/points/payload/clear"),
                  ("post", "/collections/{collection_name}/points/batch"),
                  ("post", "/collections/{collection_name}/points/scroll"),
                  ("post", "/collections/{collection_name}/points/count"),
                  ("post", "/collections/{collection_name}/points/query"),
                  ("post", "/collections/{collection_name}/points/query/batch"),
                  ("post", "/collections/{collection_name}/points/query/groups")]
        for method, path in served:
            self.assertIn(path, paths)
            self.assertIn(method, paths[path])


if __name__ == "__main__":
    unittest.main()
