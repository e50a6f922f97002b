"""HTTP tests of /metrics (parsed by the Prometheus text-format rules), /telemetry, /cluster."""

import re
import unittest

from tessera_server import TesseraServer
from test_collections import assert_ok

# One sample line: name{labels} value   (Prometheus text exposition format 0.0.4)
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? '
                    r'(-?[0-9.eE+-]+|\+Inf|-Inf|NaN)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"')


def parse_prometheus(text):
    """Returns {(name, frozenset(labels)): value}; raises on any malformed line."""
    samples, types = {}, {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in types, "duplicate TYPE for " + name
            types[name] = kind
            continue
        m = SAMPLE.match(line)
        assert m, "malformed sample line: " + line
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        key = (m.group(1), labels)
        assert key not in samples, "duplicate sample " + line
        samples[key] = float(m.group(4))
    return samples, types


class OperationsTest(unittest.TestCase):
    def test_metrics_telemetry_cluster(self):
        with TesseraServer() as server:
            server.request("PUT", "/collections/m", {"vectors": {"size": 2, "distance": "Dot"}})
            server.request("PUT", "/collections/m/points", {"points": [{"id": i, "vector": [i, 1]} for i in range(3)]})
            for _ in range(4):
                server.request("GET", "/collections/m")
            server.request("GET", "/collections/none")

            status, text, headers = server.request("GET", "/metrics")
            self.assertEqual(status, 200)
            self.assertTrue(headers["Content-Type"].startswith("text/plain"))
            samples, types = parse_prometheus(text)
            self.assertEqual(samples[("collections_total", frozenset())], 1)
            self.assertEqual(samples[("collection_points", frozenset({("collection", "m")}))], 3)
            self.assertEqual(samples[("cluster_enabled", frozenset())], 0)
            ok_gets = frozenset({("method", "GET"), ("endpoint", "/collections/{collection_name}"), ("status", "200")})
            self.assertEqual(samples[("rest_responses_total", ok_gets)], 4)
            missing = frozenset({("method", "GET"), ("endpoint", "/collections/{collection_name}"), ("status", "404")})
            self.assertEqual(samples[("rest_responses_total", missing)], 1)
            count = samples[("rest_responses_duration_seconds_count",
                             frozenset({("method", "GET"), ("endpoint", "/collections/{collection_name}")}))]
            self.assertEqual(count, 5)
            self.assertEqual(types["rest_responses_duration_seconds"], "histogram")
            self.assertIn(("tessera_wal_fsyncs_total", frozenset({("collection", "m")})), samples)
            self.assertGreater(samples[("tessera_wal_appended_bytes_total", frozenset({("collection", "m")}))], 0)
            self.assertIn(("tessera_apply_lag_operations", frozenset({("collection", "m")})), samples)

            telemetry = assert_ok(self, *server.request("GET", "/telemetry")[:2])
            self.assertEqual(telemetry["app"]["name"], "tessera")
            self.assertEqual(telemetry["collections"]["number_of_collections"], 1)
            self.assertIn("id", telemetry)
            self.assertEqual(assert_ok(self, *server.request("GET", "/cluster")[:2]), {"status": "disabled"})


if __name__ == "__main__":
    unittest.main()
