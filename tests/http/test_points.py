"""HTTP tests of the points API (upsert, retrieve, delete) and vector search."""

import math
import shutil
import tempfile
import unittest

from tessera_server import ServerTestCase, TesseraServer
from test_collections import assert_error, assert_ok

UUID = "550e8400-e29b-41d4-a716-446655440000"


class PointsTest(ServerTestCase):

    def make(self, name, vectors):
        self.req("DELETE", f"/collections/{name}")
        assert_ok(self, *self.req("PUT", f"/collections/{name}", {"vectors": vectors}))

    def test_upsert_list_and_batch_forms_then_retrieve(self):
        self.make("p", {"size": 3, "distance": "Dot"})
        result = assert_ok(self, *self.req("PUT", "/collections/p/points?wait=true", {"points": [
            {"id": 1, "vector": [1, 2, 3], "payload": {"city": "Paris", "n": 1}},
            {"id": UUID, "vector": [0.5, 0.25, 0.125]},
        ]}))
        self.assertEqual(result["status"], "completed")
        self.assertIsInstance(result["operation_id"], int)
        result = assert_ok(self, *self.req("PUT", "/collections/p/points", {"batch": {
            "ids": [2, 3], "vectors": [[1, 1, 1], [2, 2, 2]], "payloads": [{"k": "v"}, None]}}))
        self.assertEqual(result["status"], "completed")  # wait absent = true

        records = assert_ok(self, *self.req("POST", "/collections/p/points",
                                            {"ids": [1, 2, 3, UUID, 99], "with_vector": True}))
        by_id = {r["id"]: r for r in records}
        self.assertEqual(set(by_id), {1, 2, 3, UUID})
        self.assertEqual(by_id[1]["payload"], {"city": "Paris", "n": 1})
        self.assertEqual(by_id[1]["vector"], [1.0, 2.0, 3.0])
        self.assertTrue(all(isinstance(x, float) for x in by_id[1]["vector"]))
        self.assertEqual(by_id[UUID]["vector"], [0.5, 0.25, 0.125])
        self.assertEqual(by_id[3]["payload"], {})

        # Fields not asked for are absent, not null.
        records = assert_ok(self, *self.req("POST", "/collections/p/points",
                                            {"ids": [1], "with_payload": False}))
        self.assertEqual(records, [{"id": 1}])
        records = assert_ok(self, *self.req("POST", "/collections/p/points",
                                            {"ids": [1], "with_payload": ["city"]}))
        self.assertEqual(records[0]["payload"], {"city": "Paris"})
        records = assert_ok(self, *self.req("POST", "/collections/p/points",
                                            {"ids": [1], "with_payload": {"exclude": ["city"]}}))
        self.assertEqual(records[0]["payload"], {"n": 1})

        point = assert_ok(self, *self.req("GET", "/collections/p/points/1"))
        self.assertEqual(point, {"id": 1, "payload": {"city": "Paris", "n": 1}, "vector": [1.0, 2.0, 3.0]})
        point = assert_ok(self, *self.req("GET", f"/collections/p/points/{UUID}"))
        self.assertEqual(point["id"], UUID)
        status, body = self.req("GET", "/collections/p/points/12345")
        assert_error(self, status, body, 404, "No point with id 12345 found")
        status, body = self.req("GET", "/collections/p/points/not-an-id")
        assert_error(self, status, body, 400)

    def test_named_vectors(self):
        self.make("named", {"img": {"size": 2, "distance": "Euclid"}, "txt": {"size": 3, "distance": "Cosine"}})
        assert_ok(self, *self.req("PUT", "/collections/named/points", {"points": [
            {"id": 1, "vector": {"img": [1, 2], "txt": [3, 0, 4]}},
            {"id": 2, "vector": {"img": [5, 5]}}]}))
        records = assert_ok(self, *self.req("POST", "/collections/named/points",
                                            {"ids": [1, 2], "with_vector": True, "with_payload": False}))
        by_id = {r["id"]: r for r in records}
        self.assertEqual(by_id[1]["vector"], {"img": [1.0, 2.0], "txt": [0.6, 0.0, 0.8]})
        self.assertEqual(by_id[2]["vector"], {"img": [5.0, 5.0]})
        records = assert_ok(self, *self.req("POST", "/collections/named/points",
                                            {"ids": [1], "with_vector": ["img"]}))
        self.assertEqual(records[0]["vector"], {"img": [1.0, 2.0]})
        hits = assert_ok(self, *self.req("POST", "/collections/named/points/query",
                                         {"query": [5, 5], "using": "img", "limit": 1}))
        self.assertEqual(hits["points"][0]["id"], 2)
        status, body = self.req("POST", "/collections/named/points/query", {"query": [5, 5], "using": "nope"})
        assert_error(self, status, body, 400, "Not existing vector name")

    def test_bad_writes_are_rejected_and_change_nothing(self):
        self.make("bad", {"size": 2, "distance": "Dot"})
        assert_ok(self, *self.req("PUT", "/collections/bad/points", {"points": [{"id": 1, "vector": [1, 1]}]}))
        for wait in ["true", "false"]:
            status, body = self.req("PUT", f"/collections/bad/points?wait={wait}",
                                    {"points": [{"id": 2, "vector": [1, 2, 3]}]})
            assert_error(self, status, body, 400, "Vector dimension error: expected dim: 2, got 3")
        cases = [
            ({"points": [{"id": -1, "vector": [1, 1]}]}, "points[0].id"),
            ({"points": [{"id": 1.5, "vector": [1, 1]}]}, "points[0].id"),
            ({"points": [{"id": "not-a-uuid", "vector": [1, 1]}]}, "not a valid point ID"),
            ({"points": [{"id": 18446744073709551616, "vector": [1, 1]}]}, "points[0].id"),
            ({"points": [{"id": 3, "vector": [1, "x"]}]}, "points[0].vector[1]"),
            ({"points": [{"id": 3, "vector": {"nope": [1, 1]}}]}, "Not existing vector name"),
            ({"points": [{"id": 3}]}, "missing field `vector`"),
            ({"batch": {"ids": [3, 4], "vectors": [[1, 1]]}}, "1 vectors for 2 ids"),
            ({"nothing": 1}, "unknown field `nothing`"),
            ({}, "expected `points` or `batch`"),
        ]
        for body, fragment in cases:
            status, reply = self.req("PUT", "/collections/bad/points", body)
            assert_error(self, status, reply, 400, fragment)
        status, reply = self.req("PUT", "/collections/bad/points", raw='{"points": [{"id": 3, "vector": [1e400, 1]}]}')
        assert_error(self, status, reply, 400)
        for query in ["wait=maybe", "ordering=fast", "timeout=0", "timeout=x"]:
            status, reply = self.req("PUT", f"/collections/bad/points?{query}",
                                     {"points": [{"id": 3, "vector": [1, 1]}]})
            assert_error(self, status, reply, 400)
        status, reply = self.req("PUT", "/collections/missing/points", {"points": [{"id": 3, "vector": [1, 1]}]})
        assert_error(self, status, reply, 404)
        count = assert_ok(self, *self.req("POST", "/collections/bad/points", {"ids": [1, 2, 3, 4]}))
        self.assertEqual([r["id"] for r in count], [1])

    def test_wait_false_acknowledges_and_orderings_work(self):
        self.make("w", {"size": 2, "distance": "Euclid"})
        for i, ordering in enumerate(["weak", "medium", "strong"]):
            result = assert_ok(self, *self.req("PUT", f"/collections/w/points?wait=false&ordering={ordering}",
                                               {"points": [{"id": i, "vector": [i, i]}]}))
            self.assertEqual(result["status"], "acknowledged")
        result = assert_ok(self, *self.req("PUT", "/collections/w/points?wait=true&timeout=5",
                                           {"points": [{"id": 10, "vector": [0, 0]}]}))
        self.assertEqual(result["status"], "completed")
        records = assert_ok(self, *self.req("POST", "/collections/w/points", {"ids": [0, 1, 2, 10]}))
        self.assertEqual(len(records), 4)

    def test_delete_points(self):
        self.make("d", {"size": 2, "distance": "Euclid"})
        assert_ok(self, *self.req("PUT", "/collections/d/points", {"points": [
            {"id": i, "vector": [i, 0]} for i in range(5)]}))
        result = assert_ok(self, *self.req("POST", "/collections/d/points/delete?wait=true", {"points": [1, 3, 42]}))
        self.assertEqual(result["status"], "completed")
        records = assert_ok(self, *self.req("POST", "/collections/d/points", {"ids": list(range(5))}))
        self.assertEqual(sorted(r["id"] for r in records), [0, 2, 4])
        info = assert_ok(self, *self.req("GET", "/collections/d"))
        self.assertEqual(info["points_count"], 3)
        hits = assert_ok(self, *self.req("POST", "/collections/d/points/query", {"query": [1, 0], "limit": 5}))
        self.assertEqual([p["id"] for p in hits["points"]], [0, 2, 4])

    def test_scores_for_every_distance(self):
        data = {1: [1.0, 0.0], 2: [0.0, 2.0], 3: [3.0, 4.0]}
        query = [1.0, 1.0]
        for distance in ["Cosine", "Dot", "Euclid", "Manhattan"]:
            name = "s_" + distance.lower()
            self.make(name, {"size": 2, "distance": distance})
            assert_ok(self, *self.req("PUT", f"/collections/{name}/points",
                                      {"points": [{"id": k, "vector": v} for k, v in data.items()]}))
            hits = assert_ok(self, *self.req("POST", f"/collections/{name}/points/query",
                                             {"query": query, "limit": 3}))["points"]

            def score(v):
                if distance == "Cosine":
                    return (v[0] + v[1]) / (math.hypot(*v) * math.hypot(*query))
                if distance == "Dot":
                    return v[0] + v[1]
                if distance == "Euclid":
                    return math.hypot(v[0] - 1, v[1] - 1)
                return abs(v[0] - 1) + abs(v[1] - 1)

            reverse = distance in ("Cosine", "Dot")
            expected = sorted(data, key=lambda k: (-score(data[k]) if reverse else score(data[k]), k))
            self.assertEqual([h["id"] for h in hits], expected, distance)
            for h in hits:
                self.assertAlmostEqual(h["score"], score(data[h["id"]]), places=5, msg=distance)
                self.assertIn("version", h)
                self.assertNotIn("payload", h)
                self.assertNotIn("vector", h)
            # The legacy search route returns a bare list.
            legacy = assert_ok(self, *self.req("POST", f"/collections/{name}/points/search",
                                               {"vector": query, "limit": 2, "with_payload": True}))
            self.assertEqual([h["id"] for h in legacy], expected[:2])
            self.assertEqual(legacy[0]["payload"], {})

    def test_query_options(self):
        self.make("q", {"size": 2, "distance": "Euclid"})
        assert_ok(self, *self.req("PUT", "/collections/q/points", {"points": [
            {"id": i, "vector": [float(i), 0.0], "payload": {"i": i}} for i in range(10)]}))
        hits = assert_ok(self, *self.req("POST", "/collections/q/points/query",
                                         {"query": [0, 0], "limit": 3, "offset": 2, "with_payload": True,
                                          "with_vector": True, "params": {"exact": True}}))["points"]
        self.assertEqual([h["id"] for h in hits], [2, 3, 4])
        self.assertEqual(hits[0]["payload"], {"i": 2})
        self.assertEqual(hits[0]["vector"], [2.0, 0.0])
        hits = assert_ok(self, *self.req("POST", "/collections/q/points/query",
                                         {"query": {"nearest": [0, 0]}, "score_threshold": 2.5}))["points"]
        self.assertEqual([h["id"] for h in hits], [0, 1, 2])
        hits = assert_ok(self, *self.req("POST", "/collections/q/points/query", {"query": 7, "limit": 2}))["points"]
        self.assertEqual(sorted(h["id"] for h in hits), [6, 8])  # the point itself left out, as Qdrant
        status, body = self.req("POST", "/collections/q/points/query", {"query": [0, 0], "limit": 0})
        assert_error(self, status, body, 422)
        status, body = self.req("POST", "/collections/q/points/search", {"vector": [0, 0]})
        assert_error(self, status, body, 400, "limit")


class PointsRestartTest(unittest.TestCase):
    def test_points_survive_restart_and_sigterm(self):
        storage = tempfile.mkdtemp(prefix="tessera-points-")
        try:
            with TesseraServer(storage=storage) as server:
                server.request("PUT", "/collections/r", {"vectors": {"size": 2, "distance": "Dot"}})
                for i in range(20):
                    status, body, _ = server.request("PUT", "/collections/r/points?wait=false",
                                                     {"points": [{"id": i, "vector": [i, 1], "payload": {"i": i}}]})
                    self.assertEqual(status, 200)
            with TesseraServer(storage=storage) as server:
                status, body, _ = server.request("POST", "/collections/r/points",
                                                 {"ids": list(range(20)), "with_vector": True})
                records = assert_ok(self, status, body)
                self.assertEqual(len(records), 20)
                self.assertEqual({r["id"]: r["payload"]["i"] for r in records}, {i: i for i in range(20)})
                self.assertEqual({r["id"]: r["vector"] for r in records}, {i: [float(i), 1.0] for i in range(20)})
        finally:
            shutil.rmtree(storage, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
