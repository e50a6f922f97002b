"""HTTP tests of multivectors (multivector_config max_sim): config, upserts (a multivector or one
dense vector as one row), Qdrant's validation, MaxSim search against a brute-force oracle for
Dot, Cosine and Euclid (post-processed as Qdrant's score), filters, prefetch re-scoring,
vector updates and deletes, an unnamed multivector, and restarts."""

import math
import random
import shutil
import signal
import tempfile
import unittest

from tessera_server import TesseraServer
from test_collections import assert_error, assert_ok

DIM = 3


def normalised(row):
    n = math.sqrt(sum(x * x for x in row))
    return [x / n for x in row] if n > 0 else row


def similarity(distance, a, b):
    if distance in ("Dot", "Cosine"):
        return sum(x * y for x, y in zip(a, b))
    return -sum((x - y) ** 2 for x, y in zip(a, b))  # Euclid


def max_sim(distance, query, doc):
    if distance == "Cosine":
        query = [normalised(r) for r in query]
        doc = [normalised(r) for r in doc]
    return sum(max(similarity(distance, q, d) for d in doc) for q in query)


class MultivectorTest(unittest.TestCase):
    def setUp(self):
        self.storage = tempfile.mkdtemp(prefix="tessera-multi-")
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

    def load(self, n=300, seed=4):
        rng = random.Random(seed)
        self.docs = {d: {} for d in ("Dot", "Cosine", "Euclid")}
        points = []
        for i in range(n):
            vec = {"plain": [rng.random() for _ in range(DIM)]}
            for d in self.docs:
                if (i + len(d)) % 7 == 0:
                    continue  # some points without this multivector
                rows = [[round(rng.uniform(-1, 1), 3) for _ in range(DIM)] for _ in range(rng.randint(1, 4))]
                vec["m" + d] = rows if len(rows) > 1 or i % 2 else rows[0]  # one row as a plain vector
                self.docs[d][i] = rows
            points.append({"id": i, "vector": vec, "payload": {"even": i % 2 == 0}})
        for start in range(0, n, 100):
            assert_ok(self, *self.req("PUT", "/collections/m/points?wait=true", {"points": points[start:start + 100]}))

    def create(self):
        assert_ok(self, *self.req("PUT", "/collections/m", {
            "vectors": {"plain": {"size": DIM, "distance": "Dot"},
                        **{"m" + d: {"size": DIM, "distance": d, "multivector_config": {"comparator": "max_sim"}}
                           for d in ("Dot", "Cosine", "Euclid")}},
            "optimizers_config": {"indexing_threshold": 1}}))

    def check(self, seed, filtered=False):
        rng = random.Random(seed)
        for d, docs in self.docs.items():
            for _ in range(4):
                query = [[rng.uniform(-1, 1) for _ in range(DIM)] for _ in range(rng.randint(1, 3))]
                body = {"query": query, "using": "m" + d, "limit": 5}
                keep = lambda i: True
                if filtered:
                    body["filter"] = {"must": [{"key": "even", "match": {"value": True}}]}
                    keep = lambda i: i % 2 == 0
                hits = assert_ok(self, *self.req("POST", "/collections/m/points/query", body))["points"]
                want = sorted(((max_sim(d, query, doc), i) for i, doc in docs.items() if keep(i)),
                              key=lambda p: (-p[0], p[1]))[:5]
                self.assertEqual([h["id"] for h in hits], [i for _, i in want], d)
                for h, (score, _) in zip(hits, want):
                    shown = math.sqrt(abs(score)) if d == "Euclid" else score
                    self.assertAlmostEqual(h["score"], shown, places=4)

    def test_config_validation_and_retrieval(self):
        self.create()
        info = assert_ok(self, *self.req("GET", "/collections/m"))
        self.assertEqual(info["config"]["params"]["vectors"]["mDot"],
                         {"size": DIM, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}})
        assert_ok(self, *self.req("PUT", "/collections/m/points?wait=true", {"points": [
            {"id": 1, "vector": {"mDot": [[1, 2, 3], [4, 5, 6]]}},
            {"id": 2, "vector": {"mDot": [1, 0, 0]}}]}))
        got = {p["id"]: p["vector"] for p in assert_ok(self, *self.req("POST", "/collections/m/points", {
            "ids": [1, 2], "with_vectors": True}))}
        self.assertEqual(got[1], {"mDot": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]})
        self.assertEqual(got[2], {"mDot": [[1.0, 0.0, 0.0]]})
        for vector, status, text in [
                ({"mDot": []}, 422, "dense vector must not be empty"),
                ({"mDot": [[]]}, 422, "points[0].vector.?.data: all vectors must be non-empty"),
                ({"mDot": [[1, 2, 3], [1, 2]]}, 422,
                 "points[0].vector.?.data: all vectors must have the same dimension, found vector with dimension 2"),
                ({"mDot": [[1, 2], [3, 4]]}, 400, "Vector dimension error: expected dim: 3, got 2"),
                ({"plain": [[1, 2, 3]]}, 400, "Conversion between multi and regular vectors failed"),
                ({"mDot": {"indices": [1], "values": [1]}}, 400, "Conversion between sparse and regular vectors failed")]:
            s, body = self.req("PUT", "/collections/m/points?wait=true", {"points": [{"id": 9, "vector": vector}]})
            assert_error(self, s, body, status, text)
        s, body = self.req("POST", "/collections/m/points/query", {"query": [[1, 2]], "using": "mDot"})
        assert_error(self, s, body, 400, "Vector dimension error: expected dim: 3, got 2")
        s, body = self.req("POST", "/collections/m/points/query", {"query": [[1, 2, 3]], "using": "plain"})
        assert_error(self, s, body, 400, "Conversion between multi and regular vectors failed")
        s, body = self.req("POST", "/collections/m/points", {"ids": [1], "with_vector": ["nope"]})
        assert_error(self, s, body, 400, "Not existing vector name error: nope")
        s, body = self.req("PUT", "/collections/bad", {"vectors": {
            "size": 3, "distance": "Dot", "multivector_config": {"comparator": "min_sim"}}})
        assert_error(self, s, body, 400, "min_sim")

    def test_max_sim_search_across_segments_changes_and_restarts(self):
        self.create()
        self.load()
        self.assertGreater(assert_ok(self, *self.req("GET", "/collections/m"))["segments_count"], 2)
        self.check(1)
        self.check(2, filtered=True)
        # A single dense query is a multivector of one row.
        one = assert_ok(self, *self.req("POST", "/collections/m/points/query", {
            "query": [0.5, -0.5, 0.25], "using": "mDot", "limit": 3}))["points"]
        want = sorted(((max_sim("Dot", [[0.5, -0.5, 0.25]], doc), i) for i, doc in self.docs["Dot"].items()),
                      key=lambda p: (-p[0], p[1]))[:3]
        self.assertEqual([h["id"] for h in one], [i for _, i in want])
        # Prefetch by the plain vector, re-scored by MaxSim among the candidates.
        rescored = assert_ok(self, *self.req("POST", "/collections/m/points/query", {
            "prefetch": {"query": [1, 1, 1], "using": "plain", "limit": 20},
            "query": [[1, 0, 0], [0, 1, 0]], "using": "mDot", "limit": 3}))["points"]
        for h in rescored:
            self.assertAlmostEqual(h["score"], max_sim("Dot", [[1, 0, 0], [0, 1, 0]], self.docs["Dot"][h["id"]]), places=4)
        # Changes, then a restart from the WAL and one from flushed segments.
        assert_ok(self, *self.req("PUT", "/collections/m/points/vectors?wait=true", {"points": [
            {"id": 3, "vector": {"mDot": [[9, 9, 9], [0, 0, 1]]}}]}))
        self.docs["Dot"][3] = [[9, 9, 9], [0, 0, 1]]
        assert_ok(self, *self.req("POST", "/collections/m/points/vectors/delete?wait=true",
                                  {"points": [4, 5], "vector": ["mDot", "mEuclid"]}))
        for d in ("Dot", "Euclid"):
            for i in (4, 5):
                self.docs[d].pop(i, None)
        self.check(3)
        self.restart(signal.SIGKILL)
        self.check(3)
        self.restart(signal.SIGTERM)
        self.check(4, filtered=True)

    def test_recommend_concatenates_multivector_examples(self):
        self.create()
        self.load(n=100)
        docs = self.docs["Dot"]
        pos, neg = [1, 2], [3]
        # Qdrant's average for multivectors: the positives' rows concatenated, then the
        # negatives' rows appended negated.
        query = docs[1] + docs[2] + [[-x for x in row] for row in docs[3]]
        hits = assert_ok(self, *self.req("POST", "/collections/m/points/query", {
            "query": {"recommend": {"positive": pos, "negative": neg}}, "using": "mDot", "limit": 4}))["points"]
        want = sorted(((max_sim("Dot", query, doc), i) for i, doc in docs.items() if i not in pos + neg),
                      key=lambda p: (-p[0], p[1]))[:4]
        self.assertEqual([h["id"] for h in hits], [i for _, i in want])

    def test_an_unnamed_multivector(self):
        assert_ok(self, *self.req("PUT", "/collections/u", {"vectors": {
            "size": 2, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}}}))
        assert_ok(self, *self.req("PUT", "/collections/u/points?wait=true", {"points": [
            {"id": 1, "vector": [[1, 0], [0, 1]]}, {"id": 2, "vector": [[2, 2]]}]}))
        got = assert_ok(self, *self.req("GET", "/collections/u/points/1"))
        self.assertEqual(got["vector"], [[1.0, 0.0], [0.0, 1.0]])
        hits = assert_ok(self, *self.req("POST", "/collections/u/points/query", {"query": [[1, 0], [0, 1]]}))["points"]
        self.assertEqual([(h["id"], h["score"]) for h in hits], [(2, 4.0), (1, 2.0)])


if __name__ == "__main__":
    unittest.main()
