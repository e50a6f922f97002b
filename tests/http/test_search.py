"""HTTP tests of query batch, groups, recommend, prefetch with RRF fusion, and search batch."""

import unittest

from tessera_server import TesseraServer
from test_collections import assert_error, assert_ok


class SearchApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = TesseraServer().start()
        cls.req("PUT", "/collections/s", {"vectors": {"dense": {"size": 2, "distance": "Euclid"},
                                                      "other": {"size": 2, "distance": "Dot"}}})
        points = []
        for i in range(20):
            points.append({"id": i, "vector": {"dense": [float(i), 0.0], "other": [float(20 - i), 1.0]},
                           "payload": {"group": "g%d" % (i % 3), "i": i}})
        status, body, _ = cls.server.request("PUT", "/collections/s/points", {"points": points})
        assert status == 200, body

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__()

    @classmethod
    def req(cls, *args, **kwargs):
        status, body, _ = cls.server.request(*args, **kwargs)
        return status, body

    def ids(self, points):
        return [p["id"] for p in points]

    def test_query_batch(self):
        results = assert_ok(self, *self.req("POST", "/collections/s/points/query/batch", {"searches": [
            {"query": [0, 0], "using": "dense", "limit": 2},
            {"query": [10, 0], "using": "dense", "limit": 3, "filter": {"must": [{"key": "group", "match": {"value": "g1"}}]}},
        ]}))
        self.assertEqual(len(results), 2)
        self.assertEqual(self.ids(results[0]["points"]), [0, 1])
        self.assertEqual(self.ids(results[1]["points"]), [10, 7, 13])
        status, body = self.req("POST", "/collections/s/points/query/batch", {"searches": [{"query": [0, 0], "using": "nope"}]})
        assert_error(self, status, body, 400)

    def test_groups(self):
        result = assert_ok(self, *self.req("POST", "/collections/s/points/query/groups", {
            "query": [0, 0], "using": "dense", "group_by": "group", "group_size": 2, "limit": 2, "with_payload": True}))
        groups = result["groups"]
        self.assertEqual([g["id"] for g in groups], ["g0", "g1"])
        self.assertEqual(self.ids(groups[0]["hits"]), [0, 3])
        self.assertEqual(self.ids(groups[1]["hits"]), [1, 4])
        self.assertEqual(groups[0]["hits"][0]["payload"]["group"], "g0")
        status, body = self.req("POST", "/collections/s/points/query/groups", {"query": [0, 0], "using": "dense"})
        assert_error(self, status, body, 400, "group_by")

    def test_recommend(self):
        # average_vector: avg(positive) + (avg(positive) - avg(negative)); examples excluded.
        hits = assert_ok(self, *self.req("POST", "/collections/s/points/recommend", {
            "positive": [5], "negative": [3], "using": "dense", "limit": 3}))
        self.assertEqual(self.ids(hits), [7, 6, 8])  # query = 5 + (5 - 3) = 7
        hits = assert_ok(self, *self.req("POST", "/collections/s/points/query", {
            "query": {"recommend": {"positive": [5, [9.0, 0.0]]}}, "using": "dense", "limit": 2}))
        self.assertEqual(self.ids(hits["points"]), [7, 6])  # 5 itself is left out
        batch = assert_ok(self, *self.req("POST", "/collections/s/points/recommend/batch", {"searches": [
            {"positive": [1], "using": "dense", "limit": 1}, {"positive": [18], "using": "dense", "limit": 1}]}))
        self.assertEqual([self.ids(b) for b in batch], [[0], [17]])
        status, body = self.req("POST", "/collections/s/points/recommend", {"positive": [999], "using": "dense", "limit": 1})
        assert_error(self, status, body, 404)
        status, body = self.req("POST", "/collections/s/points/recommend", {"positive": [], "using": "dense", "limit": 1})
        assert_error(self, status, body, 400, "positive")

    def test_search_batch_and_named_vector_search(self):
        results = assert_ok(self, *self.req("POST", "/collections/s/points/search/batch", {"searches": [
            {"vector": {"name": "dense", "vector": [3, 0]}, "limit": 1},
            {"vector": {"name": "other", "vector": [1, 0]}, "limit": 1, "with_payload": ["i"]}]}))
        self.assertEqual(self.ids(results[0]), [3])
        self.assertEqual(results[1][0]["id"], 0)  # Dot: the largest first coordinate
        self.assertEqual(results[1][0]["payload"], {"i": 0})

    def test_prefetch_with_rrf_fusion_and_rescoring(self):
        fused = assert_ok(self, *self.req("POST", "/collections/s/points/query", {
            "prefetch": [{"query": [0, 0], "using": "dense", "limit": 5},
                         {"query": [1, 0], "using": "other", "limit": 5}],
            "query": {"fusion": "rrf"}, "limit": 3}))["points"]
        # dense ranks 0,1,2,3,4; other (Dot, larger first coordinate = smaller id) ranks 0,1,2,3,4.
        self.assertEqual(self.ids(fused), [0, 1, 2])
        self.assertAlmostEqual(fused[0]["score"], 1.0, places=5)  # 2 * 1 / (k + 0), k = 2
        rescored = assert_ok(self, *self.req("POST", "/collections/s/points/query", {
            "prefetch": {"query": [0, 0], "using": "dense", "limit": 5},
            "query": [10, 0], "using": "dense", "limit": 2}))["points"]
        self.assertEqual(self.ids(rescored), [4, 3])  # only among the prefetched 0..4
        status, body = self.req("POST", "/collections/s/points/query", {"query": {"fusion": "rrf"}})
        assert_error(self, status, body, 400, "prefetch")

    def test_a_query_without_query_lists_points_in_id_order(self):
        listed = assert_ok(self, *self.req("POST", "/collections/s/points/query", {
            "limit": 3, "offset": 2, "filter": {"must": [{"key": "group", "match": {"value": "g1"}}]}}))["points"]
        # Each scores 1, as Qdrant's query_scroll gives them.
        self.assertEqual([(p["id"], p["score"]) for p in listed], [(7, 1), (10, 1), (13, 1)])
        # As a prefetch: the candidates the root query re-scores.
        rescored = assert_ok(self, *self.req("POST", "/collections/s/points/query", {
            "prefetch": {"limit": 5}, "query": [10, 0], "using": "dense", "limit": 2}))["points"]
        self.assertEqual(self.ids(rescored), [4, 3])  # among ids 0..4 only
        status, body = self.req("POST", "/collections/s/points/query", {"prefetch": {"limit": 5}})
        assert_error(self, status, body, 400, "A query is needed to merge the prefetches")
        status, body = self.req("POST", "/collections/s/points/query", {"score_threshold": 1})
        assert_error(self, status, body, 400, "A query is needed to use the score_threshold")
        status, body = self.req("POST", "/collections/s/points/query", {
            "prefetch": [{"query": [0, 0], "using": "dense"}], "query": {"fusion": "rrf"}, "using": "dense"})
        assert_error(self, status, body, 400, "Fusion queries cannot be combined with the 'using' field.")

    def test_nearest_with_mmr(self):
        def query(body):
            return assert_ok(self, *self.req("POST", "/collections/s/points/query", dict(
                {"using": "dense", "limit": 3}, **body)))["points"]
        plain = query({"query": {"nearest": [10.4, 0]}})
        self.assertEqual(self.ids(plain), [10, 11, 9])
        # Euclid's raw similarity is -d^2; by hand (lambda 0.5 over 10, 11, 9, 12, 8):
        # 10 first, then 12 (0.72 against 11's 0.32), then 11.
        mmr = query({"query": {"nearest": [10.4, 0], "mmr": {"diversity": 0.5, "candidates_limit": 5}},
                     "with_vector": True})
        self.assertEqual(self.ids(mmr), [10, 12, 11])
        self.assertAlmostEqual(mmr[1]["score"], 1.6, places=4)  # the nearest search's score
        self.assertEqual(mmr[1]["vector"]["dense"], [12.0, 0.0])
        # Defaults: diversity 0.5, candidates_limit = limit (10, 11, 9 only).
        self.assertEqual(self.ids(query({"query": {"nearest": [10.4, 0], "mmr": {}}})), [10, 11, 9])
        # With a filter: the candidates are the group's (10, 13, 7, 16, 4).
        filtered = query({"query": {"nearest": [10.4, 0], "mmr": {"candidates_limit": 5}},
                          "filter": {"must": [{"key": "group", "match": {"value": "g1"}}]}})
        self.assertEqual(self.ids(filtered), [10, 16, 13])
        for body, text in [({"diversity": 1.5}, "internal.query.mmr.diversity: value 1.5 invalid, must be from 0.0 to 1.0"),
                           ({"candidates_limit": 20000}, "candidates_limit")]:
            status, out = self.req("POST", "/collections/s/points/query", {
                "query": {"nearest": [10.4, 0], "mmr": body}, "using": "dense"})
            assert_error(self, status, out, 422, text)

    def test_lookup_from_another_collection(self):
        self.req("DELETE", "/collections/other")
        assert_ok(self, *self.req("PUT", "/collections/other", {"vectors": {"v": {"size": 2, "distance": "Euclid"}}}))
        assert_ok(self, *self.req("PUT", "/collections/other/points?wait=true", {"points": [
            {"id": 1, "vector": {"v": [5, 0]}}, {"id": 2, "vector": {"v": [15, 0]}}]}))
        lookup = {"collection": "other", "vector": "v"}
        def query(body):
            return assert_ok(self, *self.req("POST", "/collections/s/points/query", dict(
                {"using": "dense", "limit": 2, "lookup_from": lookup}, **body)))["points"]
        # The ids name the other collection's points: s's own 1 and 2 are not left out.
        self.assertEqual(self.ids(query({"query": {"recommend": {"positive": [1]}}})), [5, 4])
        self.assertEqual(self.ids(query({"query": 2})), [15, 14])
        found = query({"query": {"discover": {"target": 2, "context": [{"positive": 2, "negative": 1}]}}})
        self.assertEqual(self.ids(found), [15, 14])
        # In a prefetch, and with the query's `using` when no vector is named.
        fused = assert_ok(self, *self.req("POST", "/collections/s/points/query", {
            "prefetch": [{"query": 1, "using": "dense", "limit": 1,
                          "lookup_from": {"collection": "other", "vector": "v"}}],
            "query": {"fusion": "rrf"}}))["points"]
        self.assertEqual(self.ids(fused), [5])
        for body, code, text in [
                ({"query": 1, "lookup_from": {"collection": "nope"}}, 404, "Not found: Collection nope not found"),
                ({"query": {"recommend": {"positive": [1], "negative": [3]}}}, 404, "Not found: No point with id 3 found"),
                ({"query": 1, "lookup_from": {"collection": "other", "vector": "w"}}, 400,
                 "Wrong input: Not existing vector name error: w"),
                ({"query": 3, "lookup_from": {"collection": "other", "vector": "w"}}, 404, "No point with id 3"),
                ({"query": 1, "lookup_from": {"collection": "other"}}, 400, "Not existing vector name error: dense")]:
            status, out = self.req("POST", "/collections/s/points/query", dict(
                {"using": "dense", "lookup_from": lookup}, **body))
            assert_error(self, status, out, code, text)
        self.req("DELETE", "/collections/other")

    def test_distance_matrix(self):
        body = {"sample": 20, "limit": 2, "using": "dense",
                "filter": {"must": [{"key": "group", "match": {"value": "g0"}}]}}
        pairs = assert_ok(self, *self.req("POST", "/collections/s/points/search/matrix/pairs", body))["pairs"]
        # The sample is the whole group (0, 3, ..., 18), by id; each point's 2 nearest among
        # it, itself left out (Euclid distances; ties by id).
        self.assertEqual([(p["a"], p["b"], p["score"]) for p in pairs[:4]],
                         [(0, 3, 3), (0, 6, 6), (3, 0, 3), (3, 6, 3)])
        self.assertEqual(len(pairs), 14)
        offsets = assert_ok(self, *self.req("POST", "/collections/s/points/search/matrix/offsets", body))
        self.assertEqual(offsets["ids"], [0, 3, 6, 9, 12, 15, 18])
        self.assertEqual(offsets["offsets_row"][:4], [0, 0, 1, 1])
        self.assertEqual(offsets["offsets_col"][:4], [1, 2, 0, 2])
        self.assertEqual(offsets["scores"][:4], [3, 6, 3, 3])
        # A sample of 3 out of 20: three distinct points.
        small = assert_ok(self, *self.req("POST", "/collections/s/points/search/matrix/offsets",
                                          {"sample": 3, "limit": 1, "using": "dense"}))
        self.assertEqual(len(set(small["ids"])), 3)
        self.assertEqual(small["ids"], sorted(small["ids"]))
        status, out = self.req("POST", "/collections/s/points/search/matrix/pairs", {"using": "nope"})
        assert_error(self, status, out, 400, "Not existing vector name")
        status, out = self.req("POST", "/collections/s/points/search/matrix/pairs", {"sample": 1, "using": "dense"})
        assert_error(self, status, out, 422)

    def test_order_by_and_sample_queries(self):
        assert_ok(self, *self.req("PUT", "/collections/s/index?wait=true",
                                  {"field_name": "i", "field_schema": "integer"}))
        ordered = assert_ok(self, *self.req("POST", "/collections/s/points/query", {
            "query": {"order_by": {"key": "i", "direction": "desc"}}, "limit": 3, "offset": 1,
            "filter": {"must": [{"key": "group", "match": {"value": "g0"}}]}}))["points"]
        # g0: 0, 3, ..., 18; descending 18, 15, 12, 9: offset 1.
        self.assertEqual([(p["id"], p["score"], p["order_value"]) for p in ordered],
                         [(15, 1, 15), (12, 1, 12), (9, 1, 9)])
        # Over a prefetch: its points only.
        over = assert_ok(self, *self.req("POST", "/collections/s/points/query", {
            "prefetch": {"query": [0, 0], "using": "dense", "limit": 4},
            "query": {"order_by": "i"}, "limit": 10}))["points"]
        self.assertEqual(self.ids(over), [0, 1, 2, 3])
        status, body = self.req("POST", "/collections/s/points/query", {
            "query": {"order_by": "i"}, "score_threshold": 1})
        assert_error(self, status, body, 400, "Can't use score_threshold with an order_by query.")
        # sample: the filter's points, each once, in an order that changes between requests.
        orders = set()
        for _ in range(8):
            sampled = assert_ok(self, *self.req("POST", "/collections/s/points/query", {
                "query": {"sample": "random"}, "limit": 20,
                "filter": {"must": [{"key": "group", "match": {"value": "g1"}}]}}))["points"]
            self.assertEqual(sorted(self.ids(sampled)), [1, 4, 7, 10, 13, 16, 19])
            self.assertTrue(all(p["score"] == 1 for p in sampled))
            orders.add(tuple(self.ids(sampled)))
        self.assertGreater(len(orders), 1)
        few = assert_ok(self, *self.req("POST", "/collections/s/points/query", {
            "query": {"sample": "random"}, "limit": 3}))["points"]
        self.assertEqual(len(set(self.ids(few))), 3)

    def test_best_score_sum_scores_discover_and_context(self):
        def query(q, limit, **extra):
            return assert_ok(self, *self.req("POST", "/collections/s/points/query", dict(
                {"query": q, "using": "dense", "limit": limit}, **extra)))["points"]
        # Euclid's raw similarity is -d^2; scores by hand from Qdrant's formulas.
        best = query({"recommend": {"positive": [[10, 0]], "negative": [[19, 0]], "strategy": "best_score"}}, 3)
        self.assertEqual([(p["id"], p["score"]) for p in best], [(10, 0.5), (9, 0.25), (11, 0.25)])
        # sum_scores with point examples (left out): (x - 12)^2 - (x - 10)^2 = 44 - 4x.
        summed = query({"recommend": {"positive": [10], "negative": [12], "strategy": "sum_scores"}}, 2)
        self.assertEqual([(p["id"], p["score"]) for p in summed], [(0, 44), (1, 40)])
        # discover: the points closer to 5 than to 15 (x < 10), then the nearest to 18; 5 is an
        # example, left out.
        found = query({"discover": {"target": 18, "context": [{"positive": 5, "negative": 15}]}}, 2)
        self.assertEqual(self.ids(found), [9, 8])
        # context, one pair given alone: every point closer to 5 scores 0 (ties by id).
        zone = query({"context": {"positive": [5, 0], "negative": [15, 0]}}, 3, filter={
            "must": [{"key": "group", "match": {"value": "g1"}}]})
        self.assertEqual([(p["id"], p["score"]) for p in zone], [(1, 0), (4, 0), (7, 0)])
        # relevance_feedback (naive): a * sim(target) + sum over pairs with confidence > 0 of
        # confidence^b * c * (sim(better) - sim(worse)); here -(x-10)^2 + (x-8)^2 - (x-12)^2
        # = -x^2 + 28x - 180: 14 (16), then 13 and 15 (15, by id).
        fed = query({"relevance_feedback": {
            "target": [10, 0],
            "feedback": [{"example": [12, 0], "score": 1}, {"example": [8, 0], "score": 0}],
            "strategy": {"naive": {"a": 1, "b": 1, "c": 1}}}}, 3)
        self.assertEqual([(p["id"], p["score"]) for p in fed], [(14, 16), (13, 15), (15, 15)])
        status, body = self.req("POST", "/collections/s/points/query", {"using": "dense", "query": {
            "relevance_feedback": {"target": [10, 0], "feedback": [],
                                   "strategy": {"naive": {"a": 1, "b": 1, "c": 1}}}}})
        assert_error(self, status, body, 422, "feedback elements must be non-empty")
        # The 1.18 route takes the strategy too.
        legacy = assert_ok(self, *self.req("POST", "/collections/s/points/recommend", {
            "positive": [[10, 0]], "negative": [[19, 0]], "strategy": "best_score", "using": "dense",
            "limit": 1}))
        self.assertEqual(self.ids(legacy), [10])
        status, body = self.req("POST", "/collections/s/points/query", {
            "query": {"recommend": {"strategy": "best_score"}}, "using": "dense"})
        assert_error(self, status, body, 422, "At least one positive or negative vector/id must be provided")

    def test_a_filter_applies_to_the_prefetches_and_a_point_query_leaves_the_point_out(self):
        fused = assert_ok(self, *self.req("POST", "/collections/s/points/query", {
            "prefetch": [{"query": [0, 0], "using": "dense", "limit": 3},
                         {"query": [20, 0], "using": "dense", "limit": 3}],
            "query": {"fusion": "rrf"}, "limit": 10,
            "filter": {"must": [{"key": "group", "match": {"value": "g2"}}]}}))["points"]
        # Each prefetch searched group g2 only: 2, 5, 8 and 17, 14, 11.
        self.assertEqual(sorted(self.ids(fused)), [2, 5, 8, 11, 14, 17])
        by_id = assert_ok(self, *self.req("POST", "/collections/s/points/query", {
            "query": 5, "using": "dense", "limit": 2}))["points"]
        self.assertEqual(sorted(self.ids(by_id)), [4, 6])

    def test_rrf_parameters_dbsf_and_thresholds_on_fused_scores(self):
        prefetch = [{"query": [0, 0], "using": "dense", "limit": 4},   # ranks 0, 1, 2, 3
                    {"query": [20, 0], "using": "dense", "limit": 4}]  # ranks 19, 18, 17, 16
        rrf = assert_ok(self, *self.req("POST", "/collections/s/points/query", {
            "prefetch": prefetch, "query": {"rrf": {"k": 60, "weights": [3.0, 1.0]}}, "limit": 8}))["points"]
        score = {p["id"]: p["score"] for p in rrf}
        for rank, (a, b) in enumerate(zip([0, 1, 2, 3], [19, 18, 17, 16])):
            self.assertAlmostEqual(score[a], 1 / ((rank + 1) / 3.0 + 59), places=6)
            self.assertAlmostEqual(score[b], 1 / ((rank + 1) / 1.0 + 59), places=6)
        self.assertEqual(self.ids(rrf)[:4], [0, 1, 2, 19])  # 1/(4/3 + 59) < 1/(1 + 59)
        status, body = self.req("POST", "/collections/s/points/query", {
            "prefetch": prefetch, "query": {"rrf": {"weights": [1.0]}}})
        assert_error(self, status, body, 400, "Number of weights in RRF should match number of pre-fetches")
        # DBSF: each list normalised between mean -/+ 3 sd; one point in both lists sums.
        dbsf = assert_ok(self, *self.req("POST", "/collections/s/points/query", {
            "prefetch": [{"query": [0, 0], "using": "dense", "limit": 3},
                         {"query": [2, 0], "using": "dense", "limit": 1}],
            "query": {"fusion": "dbsf"}, "limit": 5}))["points"]
        self.assertEqual(dbsf[0]["id"], 2)  # 0.5 from the one-point list, plus its share of the first
        self.assertEqual(len(dbsf), 3)
        above = assert_ok(self, *self.req("POST", "/collections/s/points/query", {
            "prefetch": prefetch, "query": {"fusion": "rrf"}, "score_threshold": 0.4, "limit": 8}))["points"]
        self.assertEqual(sorted(self.ids(above)), [0, 19])  # 1/2 each; the next score 1/3


if __name__ == "__main__":
    unittest.main()


class PayloadIndexTest(unittest.TestCase):
    def test_indexes_schema_order_by_and_restart(self):
        import shutil
        import tempfile
        storage = tempfile.mkdtemp(prefix="tessera-index-")
        try:
            with TesseraServer(storage=storage) as server:
                def req(*args, **kwargs):
                    status, body, _ = server.request(*args, **kwargs)
                    return status, body
                assert_ok(self, *req("PUT", "/collections/ix", {"vectors": {"size": 2, "distance": "Dot"}}))
                assert_ok(self, *req("PUT", "/collections/ix/points", {"points": [
                    {"id": i, "vector": [1, 0], "payload": {"price": (i * 7) % 10, "city": "c%d" % (i % 2)}}
                    for i in range(10)] + [{"id": 10, "vector": [1, 0], "payload": {"other": 1}}]}))
                result = assert_ok(self, *req("PUT", "/collections/ix/index?wait=true",
                                              {"field_name": "price", "field_schema": "integer"}))
                self.assertEqual(result["status"], "completed")
                assert_ok(self, *req("PUT", "/collections/ix/index",
                                     {"field_name": "city", "field_schema": {"type": "keyword", "is_tenant": True}}))
                schema = assert_ok(self, *req("GET", "/collections/ix"))["payload_schema"]
                self.assertEqual(schema["price"], {"data_type": "integer", "points": 10})
                self.assertEqual(schema["city"]["data_type"], "keyword")
                self.assertEqual(schema["city"]["params"], {"type": "keyword", "is_tenant": True})

                page = assert_ok(self, *req("POST", "/collections/ix/points/scroll",
                                            {"order_by": "price", "limit": 3, "with_payload": False}))
                self.assertEqual([p["order_value"] for p in page["points"]], [0, 1, 2])
                self.assertIsNone(page["next_page_offset"])
                page = assert_ok(self, *req("POST", "/collections/ix/points/scroll", {
                    "order_by": {"key": "price", "direction": "desc", "start_from": 5}, "limit": 2}))
                self.assertEqual([p["order_value"] for p in page["points"]], [5, 4])
                status, body = req("POST", "/collections/ix/points/scroll", {"order_by": "city"})
                assert_error(self, status, body, 400, "No range index")
                status, body = req("PUT", "/collections/ix/index", {"field_name": "x", "field_schema": "vector"})
                assert_error(self, status, body, 400, "unknown variant `vector`")
                status, body = req("PUT", "/collections/ix/index", {"field_schema": "keyword"})
                assert_error(self, status, body, 400, "field_name")
            with TesseraServer(storage=storage) as server:
                status, body, _ = server.request("GET", "/collections/ix")
                schema = assert_ok(self, status, body)["payload_schema"]
                self.assertEqual(set(schema), {"price", "city"})
                status, body, _ = server.request("DELETE", "/collections/ix/index/city")
                assert_ok(self, status, body)
                status, body, _ = server.request("GET", "/collections/ix")
                self.assertEqual(set(assert_ok(self, status, body)["payload_schema"]), {"price"})
        finally:
            shutil.rmtree(storage, ignore_errors=True)
