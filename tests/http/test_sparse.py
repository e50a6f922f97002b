"""HTTP tests of sparse vectors: config, upserts in every form, validation, retrieval, search by
sparse vector against a brute-force oracle (several sealed segments and the appendable one,
with filters), the IDF modifier, update/delete of sparse vectors, and restarts."""

import math
import random
import shutil
import signal
import tempfile
import unittest

from tessera_server import TesseraServer
from test_collections import assert_error, assert_ok

C = "/collections/sp"


def random_sparse(rng, vocab=60, max_nnz=8):
    dims = rng.sample(range(vocab), rng.randint(1, max_nnz))
    return {"indices": dims, "values": [round(rng.uniform(-0.5, 2.0), 3) for _ in dims]}


def dot(a, b):
    weights = dict(zip(a["indices"], a["values"]))
    return sum(weights[i] * v for i, v in zip(b["indices"], b["values"]) if i in weights)


def overlaps(a, b):
    return bool(set(a["indices"]) & set(b["indices"]))


class SparseVectorTest(unittest.TestCase):
    def setUp(self):
        self.storage = tempfile.mkdtemp(prefix="tessera-sparse-")
        self.server = TesseraServer(storage=self.storage).start()

    def tearDown(self):
        self.server.stop(signal.SIGKILL)
        shutil.rmtree(self.storage, ignore_errors=True)

    def req(self, *args, **kwargs):
        status, body, _ = self.server.request(*args, **kwargs)
        return status, body

    def restart(self, sig):
        self.server.stop(sig)
        self.server = TesseraServer(storage=self.storage).start()

    def create(self, sparse_params=None):
        # Segments of about 128 points (2 floats each against a 1 KB threshold): several sealed.
        assert_ok(self, *self.req("PUT", C, {
            "vectors": {"d": {"size": 2, "distance": "Dot"}},
            "sparse_vectors": {"s": sparse_params or {}},
            "optimizers_config": {"indexing_threshold": 1}}))

    def load(self, n=500, seed=3):
        rng = random.Random(seed)
        self.docs = {}
        points = []
        for i in range(n):
            vec = {}
            if i % 10 != 0:
                vec["s"] = random_sparse(rng)
                self.docs[i] = vec["s"]
            if i % 4 != 1:
                vec["d"] = [rng.random(), rng.random()]
            points.append({"id": i, "vector": vec, "payload": {"i": i, "odd": i % 2 == 1}})
        for start in range(0, n, 100):
            assert_ok(self, *self.req("PUT", C + "/points?wait=true", {"points": points[start:start + 100]}))

    def expected(self, query, limit, keep=lambda i: True):
        scored = [(dot(doc, query), i) for i, doc in self.docs.items()
                  if keep(i) and overlaps(doc, query)]
        scored = [(s, i) for s, i in scored if s != 0]
        scored.sort(key=lambda p: (-p[0], p[1]))
        return scored[:limit]

    def check_queries(self, seed, filtered=False):
        rng = random.Random(seed)
        found = 0
        for _ in range(15):
            query = random_sparse(rng, vocab=70, max_nnz=5)
            body = {"query": query, "using": "s", "limit": 10}
            keep = lambda i: True
            if filtered:
                body["filter"] = {"must": [{"key": "odd", "match": {"value": True}}]}
                keep = lambda i: i % 2 == 1
            hits = assert_ok(self, *self.req("POST", C + "/points/query", body))["points"]
            want = self.expected(query, 10, keep)
            self.assertEqual([h["id"] for h in hits], [i for _, i in want], query)
            for h, (score, _) in zip(hits, want):
                self.assertAlmostEqual(h["score"], score, places=4)
            found += len(hits)
        self.assertGreater(found, 100)  # the queries do reach the points

    def test_config_is_shown_and_updated_and_bad_configs_are_refused(self):
        self.create({"index": {"on_disk": False, "full_scan_threshold": 50}, "modifier": "none"})
        params = assert_ok(self, *self.req("GET", C))["config"]["params"]
        self.assertEqual(params["sparse_vectors"],
                         {"s": {"index": {"on_disk": False, "full_scan_threshold": 50}, "modifier": "none"}})
        assert_ok(self, *self.req("PATCH", C, {"sparse_vectors": {"s": {"index": {"on_disk": True}}}}))
        params = assert_ok(self, *self.req("GET", C))["config"]["params"]
        self.assertEqual(params["sparse_vectors"]["s"]["index"], {"on_disk": True, "full_scan_threshold": 50})
        status, body = self.req("PATCH", C, {"sparse_vectors": {"nope": {}}})
        assert_error(self, status, body, 400, "nope")
        status, body = self.req("PUT", "/collections/dup", {
            "vectors": {"x": {"size": 2, "distance": "Dot"}}, "sparse_vectors": {"x": {}}})
        assert_error(self, status, body, 400, "Dense and sparse vector names must be unique")
        status, body = self.req("PUT", "/collections/empty", {"sparse_vectors": {"": {}}})
        assert_error(self, status, body, 400, "Sparse vector name cannot be empty")
        status, body = self.req("PUT", "/collections/t4", {"sparse_vectors": {"x": {"index": {"datatype": "turbo4"}}}})
        assert_error(self, status, body, 422, "sparse vectors do not support the `turbo4` datatype")
        status, body = self.req("PUT", "/collections/f16", {"sparse_vectors": {"x": {"index": {"datatype": "float16"}}}})
        assert_error(self, status, body, 400, "float16")
        self.assertEqual(self.req("GET", "/collections/dup")[0], 404)

    def test_upserts_validation_and_retrieval(self):
        self.create()
        assert_ok(self, *self.req("PUT", C + "/points?wait=true", {"points": [
            {"id": 1, "vector": {"s": {"indices": [9, 2, 5], "values": [0.9, 0.2, 0.5]}, "d": [1, 0]}},
            {"id": 2, "vector": {"s": {"indices": [], "values": []}}},
            {"id": 3, "vector": {}}]}))
        assert_ok(self, *self.req("PUT", C + "/points?wait=true", {"batch": {
            "ids": [4, 5], "vectors": {"s": [{"indices": [1], "values": [1.5]}, {"indices": [7, 3], "values": [1, 2]}]}}}))
        got = {p["id"]: p.get("vector") for p in assert_ok(self, *self.req("POST", C + "/points", {
            "ids": [1, 2, 3, 4, 5], "with_vector": True}))}
        self.assertEqual(got[1], {"s": {"indices": [2, 5, 9], "values": [0.2, 0.5, 0.9]}, "d": [1.0, 0.0]})
        self.assertEqual(got[2], {"s": {"indices": [], "values": []}})
        self.assertEqual(got[3], {})
        self.assertEqual(got[5], {"s": {"indices": [3, 7], "values": [2.0, 1.0]}})
        only = assert_ok(self, *self.req("POST", C + "/points", {"ids": [1], "with_vector": ["s"]}))
        self.assertEqual(only[0]["vector"], {"s": {"indices": [2, 5, 9], "values": [0.2, 0.5, 0.9]}})
        for vector, status, text in [
                ({"s": {"indices": [1, 2], "values": [1]}}, 422,
                 "points[0].vector.?.values: Validation error: must be the same length as indices"),
                ({"s": {"indices": [4, 4], "values": [1, 2]}}, 422,
                 "points[0].vector.?.indices: Validation error: must be unique"),
                ({"s": [1.0, 2.0]}, 400, "Conversion between sparse and regular vectors failed"),
                ({"d": {"indices": [1], "values": [1]}}, 400, "Conversion between sparse and regular vectors failed"),
                ({"nope": {"indices": [1], "values": [1]}}, 400, "Not existing vector name"),
                ({"s": {"indices": [-1], "values": [1]}}, 400, "indices"),
                ({"s": {"indices": [4294967296], "values": [1]}}, 400, "indices")]:
            status_got, body = self.req("PUT", C + "/points?wait=true", {"points": [{"id": 9, "vector": vector}]})
            assert_error(self, status_got, body, status, text)
        self.assertEqual(self.req("POST", C + "/points", {"ids": [9]})[1]["result"], [])

    def test_search_matches_brute_force_across_segments_and_restarts(self):
        self.create()
        self.load()
        info = assert_ok(self, *self.req("GET", C))
        self.assertGreater(info["segments_count"], 2)
        self.check_queries(11)
        self.check_queries(12, filtered=True)
        # The legacy search endpoint with a named sparse vector, and a point id as the query.
        query = {"indices": [1, 2, 3], "values": [1.0, 0.5, 0.25]}
        hits = assert_ok(self, *self.req("POST", C + "/points/search", {
            "vector": {"name": "s", "vector": query}, "limit": 5}))
        self.assertEqual([h["id"] for h in hits], [i for _, i in self.expected(query, 5)])
        by_id = assert_ok(self, *self.req("POST", C + "/points/query", {"query": 7, "using": "s", "limit": 3}))
        self.assertEqual([h["id"] for h in by_id["points"]],
                         [i for _, i in self.expected(self.docs[7], 3, keep=lambda i: i != 7)])
        # A sparse query for a dense name and the other way round are refused.
        status, body = self.req("POST", C + "/points/query", {"query": query, "using": "d"})
        assert_error(self, status, body, 400, "Conversion between sparse and regular vectors failed")
        status, body = self.req("POST", C + "/points/query", {"query": [1.0, 2.0], "using": "s"})
        assert_error(self, status, body, 400, "Conversion between sparse and regular vectors failed")
        status, body = self.req("POST", C + "/points/query", {"query": {"indices": [1, 1], "values": [1, 2]}, "using": "s"})
        assert_error(self, status, body, 422, "must be unique")
        # Changes: a sparse vector replaced, one deleted, points deleted; then restarts.
        assert_ok(self, *self.req("PUT", C + "/points/vectors?wait=true", {"points": [
            {"id": 3, "vector": {"s": {"indices": [1, 2, 3], "values": [5.0, 5.0, 5.0]}}}]}))
        self.docs[3] = {"indices": [1, 2, 3], "values": [5.0, 5.0, 5.0]}
        assert_ok(self, *self.req("POST", C + "/points/vectors/delete?wait=true", {"points": [5, 6], "vector": ["s"]}))
        self.docs.pop(5, None)
        self.docs.pop(6, None)
        assert_ok(self, *self.req("POST", C + "/points/delete?wait=true", {"points": [7, 8, 9]}))
        for i in (7, 8, 9):
            self.docs.pop(i, None)
        hits = assert_ok(self, *self.req("POST", C + "/points/query", {"query": query, "using": "s", "limit": 1}))
        self.assertEqual(hits["points"][0]["id"], 3)
        self.check_queries(13)
        self.restart(signal.SIGKILL)  # from the WAL
        self.check_queries(13)
        self.restart(signal.SIGTERM)  # from the flushed segments
        self.check_queries(14, filtered=True)
        got = assert_ok(self, *self.req("POST", C + "/points", {"ids": [3, 5], "with_vector": True}))
        self.assertEqual({p["id"]: "s" in p["vector"] for p in got}, {3: True, 5: False})

    def test_idf_modifier_weighs_query_dimensions_by_document_frequency(self):
        self.create({"modifier": "idf"})
        self.load(n=300, seed=5)
        assert_ok(self, *self.req("POST", C + "/points/delete?wait=true", {"points": [1, 2, 3]}))
        for i in (1, 2, 3):
            self.docs.pop(i, None)
        rng = random.Random(9)
        odd = {"must": [{"key": "odd", "match": {"value": True}}]}
        for corpus in (None, odd, {"must": [{"key": "i", "range": {"gt": 10000}}]}):
            counted = {i: d for i, d in self.docs.items()
                       if corpus is None or (corpus is odd and i % 2 == 1)}
            n = len(counted)
            for _ in range(4):
                query = random_sparse(rng, vocab=70, max_nnz=4)
                weighted = {"indices": query["indices"], "values": []}
                for dim, v in zip(query["indices"], query["values"]):
                    df = sum(1 for d in counted.values() if dim in d["indices"])
                    weighted["values"].append(v * math.log((n - df + 0.5) / (df + 0.5) + 1))
                body = {"query": query, "using": "s", "limit": 5}
                if corpus is not None:  # the corpus counts; the retrieval is unfiltered
                    body["params"] = {"idf": {"corpus": corpus}}
                hits = assert_ok(self, *self.req("POST", C + "/points/query", body))
                want = self.expected(weighted, 5)
                self.assertEqual([h["id"] for h in hits["points"]], [i for _, i in want], corpus)
                for h, (score, _) in zip(hits["points"], want):
                    self.assertAlmostEqual(h["score"], score, places=3)
        global_hits = assert_ok(self, *self.req("POST", C + "/points/query", {
            "query": query, "using": "s", "params": {"idf": "global"}}))
        self.assertEqual(global_hits, assert_ok(self, *self.req("POST", C + "/points/query", {
            "query": query, "using": "s"})))
        status, body = self.req("POST", C + "/points/query", {
            "query": [1.0, 2.0], "using": "d", "params": {"idf": {"corpus": odd}}})
        assert_error(self, status, body, 400, "params.idf")

    def test_recommend_averages_sparse_examples(self):
        self.create()
        self.load(n=200)
        pos = [11, 12]
        neg = [13]
        def avg(ids):
            out = {}
            for i in ids:
                for d, v in zip(self.docs[i]["indices"], self.docs[i]["values"]):
                    out[d] = out.get(d, 0.0) + v / len(ids)
            return out
        p, n = avg(pos), avg(neg)
        target = {d: p.get(d, 0.0) * 2 - n.get(d, 0.0) for d in set(p) | set(n)}
        query = {"indices": list(target), "values": list(target.values())}
        hits = assert_ok(self, *self.req("POST", C + "/points/query", {
            "query": {"recommend": {"positive": pos, "negative": neg}}, "using": "s", "limit": 5}))["points"]
        want = self.expected(query, 5, keep=lambda i: i not in pos + neg)
        self.assertEqual([h["id"] for h in hits], [i for _, i in want])
        for h, (score, _) in zip(hits, want):
            self.assertAlmostEqual(h["score"], score, places=4)

    def test_hybrid_query_fuses_a_dense_and_a_sparse_prefetch(self):
        self.create()
        self.load(n=200)
        query = {"indices": [1, 2, 3], "values": [1.0, 0.5, 0.25]}
        result = assert_ok(self, *self.req("POST", C + "/points/query", {
            "prefetch": [{"query": query, "using": "s", "limit": 20},
                         {"query": [1.0, 1.0], "using": "d", "limit": 20}],
            "query": {"fusion": "rrf"}, "limit": 5}))
        self.assertEqual(len(result["points"]), 5)
        for p in result["points"]:
            self.assertLessEqual(p["score"], 1.0)
        # Re-scoring prefetched candidates with a sparse query.
        rescored = assert_ok(self, *self.req("POST", C + "/points/query", {
            "prefetch": [{"query": [1.0, 1.0], "using": "d", "limit": 50}],
            "query": query, "using": "s", "limit": 5}))
        for p in rescored["points"]:
            self.assertAlmostEqual(p["score"], dot(self.docs[p["id"]], query), places=4)


if __name__ == "__main__":
    unittest.main()
