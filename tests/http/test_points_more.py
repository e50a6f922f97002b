"""HTTP tests of payload and vector updates, the atomic batch, scroll, count and filters."""

import unittest

from tessera_server import ServerTestCase, TesseraServer
from test_collections import assert_error, assert_ok


class PointsMoreTest(ServerTestCase):

    def fresh(self, name, points, vectors=None):
        self.req("DELETE", f"/collections/{name}")
        assert_ok(self, *self.req("PUT", f"/collections/{name}",
                                  {"vectors": vectors or {"size": 2, "distance": "Euclid"}}))
        assert_ok(self, *self.req("PUT", f"/collections/{name}/points", {"points": points}))

    def get(self, name, ids, **extra):
        body = {"ids": ids}
        body.update(extra)
        records = assert_ok(self, *self.req("POST", f"/collections/{name}/points", body))
        return {r["id"]: r for r in records}

    def test_payload_operations(self):
        self.fresh("pl", [{"id": i, "vector": [i, 0], "payload": {"a": i, "n": {"x": 1}}} for i in range(4)])
        assert_ok(self, *self.req("POST", "/collections/pl/points/payload",
                                  {"payload": {"b": "new"}, "points": [0, 1]}))
        assert_ok(self, *self.req("POST", "/collections/pl/points/payload",
                                  {"payload": {"y": 2}, "points": [0], "key": "n"}))
        assert_ok(self, *self.req("PUT", "/collections/pl/points/payload",
                                  {"payload": {"only": True}, "points": [2]}))
        assert_ok(self, *self.req("POST", "/collections/pl/points/payload/delete",
                                  {"keys": ["a", "n.x"], "points": [1]}))
        assert_ok(self, *self.req("POST", "/collections/pl/points/payload/clear", {"points": [3]}))
        got = self.get("pl", [0, 1, 2, 3])
        self.assertEqual(got[0]["payload"], {"a": 0, "n": {"x": 1, "y": 2}, "b": "new"})
        self.assertEqual(got[1]["payload"], {"n": {}, "b": "new"})
        self.assertEqual(got[2]["payload"], {"only": True})
        self.assertEqual(got[3]["payload"], {})
        # By filter.
        assert_ok(self, *self.req("POST", "/collections/pl/points/payload",
                                  {"payload": {"flag": 1}, "filter": {"must": [{"key": "b", "match": {"value": "new"}}]}}))
        got = self.get("pl", [0, 1, 2, 3])
        self.assertEqual([i for i in range(4) if "flag" in got[i]["payload"]], [0, 1])
        # Missing point: 404 and nothing changes.
        status, body = self.req("POST", "/collections/pl/points/payload", {"payload": {"z": 1}, "points": [0, 99]})
        assert_error(self, status, body, 404, "No point with id 99 found")
        self.assertNotIn("z", self.get("pl", [0])[0]["payload"])
        status, body = self.req("POST", "/collections/pl/points/payload", {"points": [0]})
        assert_error(self, status, body, 400, "payload")

    def test_facet_counts_each_value_of_an_indexed_field(self):
        import random
        rng = random.Random(5)
        uuids = ["a64a8051-3ee7-4881-8bc6-691d25c70d54", "7cb46fb3-e348-4762-93ad-7fb983d2b85e"]
        points = []
        for i in range(300):
            payload = {"city": rng.choice(["Berlin", "London", "Moscow", "Oslo", "Äby"]),
                       "n": rng.choice([0, 1, 2, 3, -7]), "b": rng.random() < 0.3,
                       "u": rng.choice(uuids), "tag": [rng.choice("abc") for _ in range(rng.randrange(3))]}
            if i % 7 == 0:
                payload["city"] = ["Berlin", "Berlin", "Oslo"]  # one count per distinct value
            if i % 11 == 0:
                payload["n"] = "not a number"
            points.append({"id": i, "vector": [i, 1], "payload": payload})
        self.fresh("fct", points)
        for field, schema in [("city", "keyword"), ("n", "integer"), ("b", "bool"), ("u", "uuid"),
                              ("tag", "keyword")]:
            assert_ok(self, *self.req("PUT", "/collections/fct/index?wait=true",
                                      {"field_name": field, "field_schema": schema}))
        # Some points gone: they are not counted.
        assert_ok(self, *self.req("POST", "/collections/fct/points/delete?wait=true",
                                  {"points": list(range(0, 300, 5))}))
        live = [p for p in points if p["id"] % 5 != 0]

        def expected(field, kind, keep=lambda p: True, limit=10):
            counts = {}
            for p in live:
                if not keep(p):
                    continue
                v = p["payload"][field]
                for x in set(v) if isinstance(v, list) else {v}:
                    if isinstance(x, kind) and not (kind is int and isinstance(x, bool)):
                        counts[x] = counts.get(x, 0) + 1
            hits = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
            return [{"value": v, "count": c} for v, c in hits]

        def facet(body):
            return assert_ok(self, *self.req("POST", "/collections/fct/facet", body))["hits"]

        self.assertEqual(facet({"key": "city"}), expected("city", str))
        self.assertEqual(facet({"key": "n", "limit": 3}), expected("n", int, limit=3))
        self.assertEqual(facet({"key": "b", "exact": True}), expected("b", bool))
        self.assertEqual(facet({"key": "u"}), expected("u", str))
        self.assertEqual(facet({"key": "tag"}), expected("tag", str))
        berlin = {"must": [{"key": "city", "match": {"value": "Berlin"}}], "must_not": [{"key": "n", "range": {"lt": 1}}]}
        self.assertEqual(facet({"key": "n", "filter": berlin}),
                         expected("n", int, lambda p: "Berlin" in (p["payload"]["city"] if isinstance(p["payload"]["city"], list) else [p["payload"]["city"]])
                                  and not (isinstance(p["payload"]["n"], int) and p["payload"]["n"] < 1)))
        # No index that can facet, a bad limit, no key: errors in Qdrant's shape.
        status, body = self.req("POST", "/collections/fct/facet", {"key": "vector_free_field"})
        assert_error(self, status, body, 400, "No appropriate index for faceting: `vector_free_field`")
        status, body = self.req("POST", "/collections/fct/facet", {"key": "city", "limit": 0})
        assert_error(self, status, body, 422, "limit")
        status, body = self.req("POST", "/collections/fct/facet", {"limit": 3})
        assert_error(self, status, body, 400, "key")
        status, body = self.req("POST", "/collections/nope/facet", {"key": "city"})
        assert_error(self, status, body, 404, "nope")

    def test_vector_updates(self):
        self.fresh("vec", [{"id": 1, "vector": {"a": [1, 1], "b": [2, 2]}}, {"id": 2, "vector": {"a": [5, 5]}}],
                   vectors={"a": {"size": 2, "distance": "Euclid"}, "b": {"size": 2, "distance": "Dot"}})
        assert_ok(self, *self.req("PUT", "/collections/vec/points/vectors",
                                  {"points": [{"id": 2, "vector": {"b": [7, 7]}}]}))
        assert_ok(self, *self.req("POST", "/collections/vec/points/vectors/delete",
                                  {"points": [1], "vector": ["b"]}))
        got = self.get("vec", [1, 2], with_vector=True)
        self.assertEqual(got[1]["vector"], {"a": [1.0, 1.0]})
        self.assertEqual(got[2]["vector"], {"a": [5.0, 5.0], "b": [7.0, 7.0]})
        status, body = self.req("PUT", "/collections/vec/points/vectors", {"points": [{"id": 3, "vector": {"a": [0, 0]}}]})
        assert_error(self, status, body, 404, "No point with id 3 found")
        status, body = self.req("PUT", "/collections/vec/points/vectors", {"points": [{"id": 1, "vector": {"a": [0]}}]})
        assert_error(self, status, body, 400, "dimension")
        status, body = self.req("POST", "/collections/vec/points/vectors/delete", {"points": [1], "vector": ["zz"]})
        assert_error(self, status, body, 400, "Not existing vector name")
        # has_vector filter sees the change.
        count = assert_ok(self, *self.req("POST", "/collections/vec/points/count", {"filter": {"must": [{"has_vector": "b"}]}}))
        self.assertEqual(count, {"count": 1})

    def test_batch_is_atomic_and_ordered(self):
        self.fresh("b", [{"id": 1, "vector": [1, 1], "payload": {"v": 1}}])
        ops = {"operations": [
            {"upsert": {"points": [{"id": 2, "vector": [2, 2], "payload": {"v": 2}}]}},
            {"set_payload": {"payload": {"s": 1}, "points": [2]}},
            {"overwrite_payload": {"payload": {"o": 1}, "points": [1]}},
            {"delete_payload": {"keys": ["s"], "points": [2]}},
            {"update_vectors": {"points": [{"id": 1, "vector": [9, 9]}]}},
            {"clear_payload": {"points": [2]}},
            {"set_payload": {"payload": {"after_clear": True}, "points": [2]}},
            {"delete": {"points": [1]}},
        ]}
        results = assert_ok(self, *self.req("POST", "/collections/b/points/batch?wait=true", ops))
        self.assertEqual(len(results), 8)
        self.assertTrue(all(r["status"] == "completed" for r in results))
        self.assertEqual(len({r["operation_id"] for r in results}), 1)
        got = self.get("b", [1, 2], with_vector=True)
        self.assertEqual(set(got), {2})
        self.assertEqual(got[2]["payload"], {"after_clear": True})

        before = self.get("b", [2, 3], with_vector=True)
        failing = {"operations": [
            {"upsert": {"points": [{"id": 3, "vector": [3, 3]}]}},
            {"set_payload": {"payload": {"x": 1}, "points": [2]}},
            {"delete": {"points": [2]}},
            {"update_vectors": {"points": [{"id": 2, "vector": [0, 0]}]}},
        ]}
        for wait in ["true", "false"]:
            status, body = self.req("POST", f"/collections/b/points/batch?wait={wait}", failing)
            assert_error(self, status, body, 404, "No point with id 2 found", "operation 3: update_vectors")
            self.assertEqual(self.get("b", [2, 3], with_vector=True), before)
        status, body = self.req("POST", "/collections/b/points/batch", {"operations": [{"explode": {}}]})
        assert_error(self, status, body, 400, "unknown variant `explode`")
        status, body = self.req("POST", "/collections/b/points/batch", {"operations": [
            {"upsert": {"points": [{"id": 5, "vector": [5, 5]}]}},
            {"upsert": {"points": [{"id": 6, "vector": [6]}]}}]})
        assert_error(self, status, body, 400, "dimension")
        self.assertEqual(self.get("b", [5, 6]), {})

    def test_filters_in_a_batch_see_the_batchs_earlier_operations(self):
        # As both official clients' batch tests do: set a payload, then delete by a filter on it,
        # in one batch; then a filter that a later batch operation depends on fails it whole.
        self.fresh("bf", [{"id": i, "vector": [i, 0], "payload": {"n": i}} for i in range(1, 5)])
        ops = {"operations": [
            {"set_payload": {"payload": {"doomed": True}, "points": [1, 2]}},
            {"delete": {"filter": {"must": [{"key": "doomed", "match": {"value": True}}]}}},
            {"upsert": {"points": [{"id": 9, "vector": [9, 9], "payload": {"tag": "t"}}]}},
            {"set_payload": {"payload": {"seen": 1},
                             "filter": {"must": [{"key": "tag", "match": {"value": "t"}}]}}},
        ]}
        assert_ok(self, *self.req("POST", "/collections/bf/points/batch?wait=true", ops))
        self.assertEqual(set(self.get("bf", [1, 2, 3, 4, 9])), {3, 4, 9})
        self.assertEqual(self.get("bf", [9])[9]["payload"], {"tag": "t", "seen": 1})

        before = self.get("bf", [3, 4, 9], with_vector=True)
        failing = {"operations": [
            {"clear_payload": {"points": [4]}},
            {"delete": {"filter": {"must": [{"key": "n", "match": {"value": 3}}]}}},
            {"set_payload": {"payload": {"x": 1}, "points": [3]}},
        ]}
        status, body = self.req("POST", "/collections/bf/points/batch?wait=true", failing)
        assert_error(self, status, body, 404, "No point with id 3 found")
        self.assertEqual(self.get("bf", [3, 4, 9], with_vector=True), before)

    def test_scroll_pages_through_everything_once(self):
        uuids = ["00000000-0000-0000-0000-00000000000%d" % i for i in range(1, 4)]
        points = [{"id": i, "vector": [i, 0], "payload": {"even": i % 2 == 0}} for i in range(25)]
        points += [{"id": u, "vector": [0, 0]} for u in uuids]
        self.fresh("s", points)
        seen, offset, pages = [], None, 0
        while True:
            body = {"limit": 7}
            if offset is not None:
                body["offset"] = offset
            page = assert_ok(self, *self.req("POST", "/collections/s/points/scroll", body))
            seen += [p["id"] for p in page["points"]]
            self.assertTrue(all("payload" in p and "vector" not in p for p in page["points"]))
            pages += 1
            offset = page["next_page_offset"]
            if offset is None:
                break
        self.assertEqual(seen, list(range(25)) + uuids)  # integers ascending, then UUIDs
        self.assertEqual(pages, 4)
        page = assert_ok(self, *self.req("POST", "/collections/s/points/scroll",
                                         {"filter": {"must": [{"key": "even", "match": {"value": True}}]},
                                          "limit": 100, "with_payload": False, "with_vector": True}))
        self.assertEqual([p["id"] for p in page["points"]], list(range(0, 25, 2)))
        self.assertIsNone(page["next_page_offset"])
        self.assertTrue(all("vector" in p and "payload" not in p for p in page["points"]))
        page = assert_ok(self, *self.req("POST", "/collections/s/points/scroll", {"offset": 20, "limit": 2}))
        self.assertEqual([p["id"] for p in page["points"]], [20, 21])
        self.assertEqual(page["next_page_offset"], 22)
        status, body = self.req("POST", "/collections/s/points/scroll", {"order_by": "x"})
        assert_error(self, status, body, 400, "No range index for `order_by` key")
        status, body = self.req("POST", "/collections/s/points/scroll", {"limit": 0})
        assert_error(self, status, body, 422)

    def test_answers_stay_json_at_float_extremes(self):
        # Denormal and float-max components: a Cosine vector too short to normalize is kept as
        # it is (Qdrant's rule), overflowing scores saturate at the largest float, and a number
        # beyond a double is refused (the harness parses answers strictly: no NaN/Infinity).
        big = 3.4e38
        for distance in ["Cosine", "Dot", "Euclid", "Manhattan"]:
            name = "x" + distance.lower()
            self.fresh(name, [{"id": 1, "vector": [1e-39, 1e-39]}, {"id": 2, "vector": [big, big]},
                              {"id": 3, "vector": [big, -big]}], vectors={"size": 2, "distance": distance})
            for query in ([big, big], [1e-39, 1e-39], [big, -big]):
                hits = assert_ok(self, *self.req("POST", f"/collections/{name}/points/query",
                                                 {"query": query, "with_vector": True}))["points"]
                self.assertEqual(len(hits), 3)
                scores = [h["score"] for h in hits]
                self.assertTrue(all(abs(s) <= 3.5e38 for s in scores), (distance, query, scores))
                if distance in ("Cosine", "Dot"):
                    self.assertEqual(scores, sorted(scores, reverse=True))
                else:
                    self.assertEqual(scores, sorted(scores))
            tiny = assert_ok(self, *self.req("POST", f"/collections/{name}/points", {"ids": [1], "with_vector": True}))
            self.assertEqual(tiny[0]["vector"], [1e-39, 1e-39])
        status, body = self.req("PUT", "/collections/xdot/points", raw='{"points": [{"id": 9, "vector": [1, 1], "payload": {"x": 1e400}}]}')
        assert_error(self, status, body, 400, "number out of range")
        status, body = self.req("POST", "/collections/xdot/points/payload", raw='{"points": [1], "payload": {"x": -1e400}}')
        assert_error(self, status, body, 400, "number out of range")

    def test_text_matching_with_and_without_a_text_index(self):
        docs = {1: "w1 and w2", 2: "w10 only", 3: "The Running Man", 4: "runs fast, Crème brûlée",
                5: "the quick brown fox", 6: "brown quick fox"}
        self.fresh("fts", [{"id": i, "vector": [float(i), 1], "payload": {"t": t, "u": t}} for i, t in docs.items()])

        def ids(cond):
            res = assert_ok(self, *self.req("POST", "/collections/fts/points/scroll",
                                            {"filter": {"must": [cond]}, "limit": 100}))
            return sorted(p["id"] for p in res["points"])

        # Without an index (u, and t before its index): Qdrant's plain checks.
        self.assertEqual(ids({"key": "u", "match": {"text": "w1"}}), [1, 2])  # a substring
        self.assertEqual(ids({"key": "u", "match": {"text_any": "zz fox"}}), [5, 6])
        self.assertEqual(ids({"key": "u", "match": {"phrase": "quick brown"}}), [5])
        self.assertEqual(ids({"key": "u", "match": {"prefix": "brown"}}), [6])
        assert_ok(self, *self.req("PUT", "/collections/fts/index?wait=true", {
            "field_name": "t", "field_schema": {"type": "text", "tokenizer": "word", "phrase_matching": True,
                                                "stemmer": {"type": "snowball", "language": "english"},
                                                "ascii_folding": True, "stopwords": {"custom": ["the"]}}}))
        # With it: tokens, lower-cased, folded, stemmed, without stopwords.
        self.assertEqual(ids({"key": "t", "match": {"text": "w1"}}), [1])  # not w10
        self.assertEqual(ids({"key": "t", "match": {"text": "W2 W1"}}), [1])
        self.assertEqual(ids({"key": "t", "match": {"text": "run"}}), [3, 4])  # running, runs
        self.assertEqual(ids({"key": "t", "match": {"text": "creme brulee"}}), [4])
        self.assertEqual(ids({"key": "t", "match": {"text_any": "zz fox w10"}}), [2, 5, 6])
        self.assertEqual(ids({"key": "t", "match": {"phrase": "quick brown"}}), [5])
        self.assertEqual(ids({"key": "t", "match": {"phrase": "brown quick"}}), [6])
        self.assertEqual(ids({"key": "t", "match": {"text": "the man"}}), [3])  # "the" is a stopword
        # Deletes by a text filter use the same reading.
        assert_ok(self, *self.req("POST", "/collections/fts/points/delete?wait=true",
                                  {"filter": {"must": [{"key": "t", "match": {"text": "w1"}}]}}))
        self.assertEqual(ids({"key": "u", "match": {"text": "w1"}}), [2])
        # Refused: predefined stopword languages (not there yet), and an unknown stemmer language.
        for schema, fragment in [({"type": "text", "stopwords": "english"}, "stopword languages"),
                                 ({"type": "text", "stopwords": {"languages": ["english"]}}, "stopword languages"),
                                 ({"type": "text", "stemmer": {"type": "snowball", "language": "klingon"}}, "stemmer")]:
            status, body = self.req("PUT", "/collections/fts/index", {"field_name": "v", "field_schema": schema})
            assert_error(self, status, body, 400, fragment)

    def test_delete_by_except_keeps_what_qdrant_keeps(self):
        # Qdrant's checker: element-wise over an array, never a missing or null value.
        payloads = {1: {"k": "a"}, 2: {"k": "b"}, 3: {}, 4: {"k": None}, 5: {"k": ["a", "b"]},
                    6: {"k": ["a"]}, 7: {"k": []}, 8: {"k": 7}, 9: {"k": [None]}}
        self.fresh("ex", [{"id": i, "vector": [float(i), 1], "payload": p} for i, p in payloads.items()])
        assert_ok(self, *self.req("POST", "/collections/ex/points/delete?wait=true",
                                  {"filter": {"must": [{"key": "k", "match": {"except": ["a"]}}]}}))
        left = assert_ok(self, *self.req("POST", "/collections/ex/points/scroll", {"limit": 20}))
        self.assertEqual(sorted(p["id"] for p in left["points"]), [1, 3, 4, 6, 7, 9])

    def test_payload_selectors_follow_json_paths(self):
        payload = {"country": {"name": "DE", "cities": [{"name": "B", "pop": 3}, {"name": "M", "pop": 1}]},
                   "n": 1}
        self.fresh("sel", [{"id": 1, "vector": [0, 0], "payload": payload}])
        def selected(with_payload):
            return assert_ok(self, *self.req("POST", "/collections/sel/points",
                                             {"ids": [1], "with_payload": with_payload}))[0]["payload"]
        # Qdrant's selectors walk arrays as `[]`: each element keeps what the path names.
        self.assertEqual(selected(["country.cities[].name"]),
                         {"country": {"cities": [{"name": "B"}, {"name": "M"}]}})
        self.assertEqual(selected({"include": ["country.name", "n"]}), {"country": {"name": "DE"}, "n": 1})
        self.assertEqual(selected({"exclude": ["country.cities[].pop"]}),
                         {"country": {"name": "DE", "cities": [{"name": "B"}, {"name": "M"}]}, "n": 1})
        self.assertEqual(selected({"exclude": ["country"]}), {"n": 1})
        self.assertEqual(selected(["country.cities"]), {"country": {"cities": payload["country"]["cities"]}})

    def test_count_and_filter_language(self):
        points = [
            {"id": 1, "vector": [1, 0], "payload": {"city": "Berlin", "price": 10, "tags": ["a", "b"],
                                                     "loc": {"lon": 13.4, "lat": 52.5}, "at": "2024-01-10T00:00:00Z"}},
            {"id": 2, "vector": [2, 0], "payload": {"city": "Paris", "price": 20, "tags": [],
                                                     "loc": {"lon": 2.35, "lat": 48.85}, "at": "2024-02-10T00:00:00Z"}},
            {"id": 3, "vector": [3, 0], "payload": {"city": "Berlin", "price": 30, "note": None,
                                                     "items": [{"k": 1, "c": "red"}, {"k": 2, "c": "blue"}]}},
            {"id": 4, "vector": [4, 0], "payload": {"city": "Rome", "desc": "a quick brown fox"}},
        ]
        self.fresh("f", points)

        def count(flt):
            return assert_ok(self, *self.req("POST", "/collections/f/points/count", {"filter": flt, "exact": True}))["count"]

        self.assertEqual(assert_ok(self, *self.req("POST", "/collections/f/points/count", {}))["count"], 4)
        self.assertEqual(count({"must": [{"key": "city", "match": {"value": "Berlin"}}]}), 2)
        # exact: false estimates only where counting costs a scan: a small segment is counted.
        approx = assert_ok(self, *self.req("POST", "/collections/f/points/count", {
            "filter": {"must": [{"key": "city", "match": {"value": "Berlin"}}]}, "exact": False}))
        self.assertEqual(approx, {"count": 2})
        self.assertEqual(count({"must": {"key": "city", "match": {"value": "Berlin"}}}), 2)  # single condition
        self.assertEqual(count({"should": [{"key": "city", "match": {"any": ["Paris", "Rome"]}}]}), 2)
        self.assertEqual(count({"must": [{"key": "city", "match": {"except": ["Berlin"]}}]}), 2)
        self.assertEqual(count({"must_not": [{"key": "city", "match": {"value": "Berlin"}}]}), 2)
        self.assertEqual(count({"must": [{"key": "price", "range": {"gte": 15, "lt": 30}}]}), 1)
        self.assertEqual(count({"must": [{"key": "tags", "match": {"value": "b"}}]}), 1)
        self.assertEqual(count({"must": [{"key": "tags", "values_count": {"gte": 1}}]}), 1)
        self.assertEqual(count({"must": [{"is_empty": {"key": "tags"}}]}), 3)
        self.assertEqual(count({"must": [{"is_null": {"key": "note"}}]}), 1)
        # The field-condition forms (Qdrant's FieldCondition is_empty / is_null).
        self.assertEqual(count({"must": [{"key": "tags", "is_empty": True}]}), 3)
        self.assertEqual(count({"must": [{"key": "tags", "is_empty": False}]}), 1)
        self.assertEqual(count({"must": [{"key": "note", "is_null": True}]}), 1)
        self.assertEqual(count({"must": [{"key": "note", "is_null": False}]}), 3)
        self.assertEqual(count({"must": [{"has_id": [1, 4, 99]}]}), 2)
        self.assertEqual(count({"must": [{"key": "desc", "match": {"text": "brown"}}]}), 1)
        self.assertEqual(count({"must": [{"key": "at", "datetime_range": {"gt": "2024-02-01T00:00:00Z"}}]}), 1)
        self.assertEqual(count({"must": [{"key": "loc", "geo_radius": {"center": {"lon": 13.4, "lat": 52.5}, "radius": 1000}}]}), 1)
        self.assertEqual(count({"must": [{"key": "loc", "geo_bounding_box": {
            "top_left": {"lon": 0, "lat": 55}, "bottom_right": {"lon": 20, "lat": 45}}}]}), 2)
        self.assertEqual(count({"must": [{"key": "loc", "geo_polygon": {"exterior": {"points": [
            {"lon": 0, "lat": 45}, {"lon": 5, "lat": 45}, {"lon": 5, "lat": 50}, {"lon": 0, "lat": 50}, {"lon": 0, "lat": 45}]}}}]}), 1)
        self.assertEqual(count({"must": [{"nested": {"key": "items", "filter": {"must": [
            {"key": "k", "match": {"value": 1}}, {"key": "c", "match": {"value": "red"}}]}}}]}), 1)
        self.assertEqual(count({"must": [{"nested": {"key": "items", "filter": {"must": [
            {"key": "k", "match": {"value": 1}}, {"key": "c", "match": {"value": "blue"}}]}}}]}), 0)
        self.assertEqual(count({"must": [{"key": "items[].c", "match": {"value": "blue"}}]}), 1)
        self.assertEqual(count({"min_should": {"conditions": [
            {"key": "city", "match": {"value": "Berlin"}}, {"key": "price", "range": {"gt": 15}}], "min_count": 2}}), 1)
        self.assertEqual(count({"must": [{"must": [{"has_id": [1, 2]}], "must_not": [{"has_id": [2]}]}]}), 1)

        # Filtered search never returns a rejected point; filtered delete removes what matches.
        hits = assert_ok(self, *self.req("POST", "/collections/f/points/query", {
            "query": [4, 0], "limit": 10, "filter": {"must": [{"key": "city", "match": {"value": "Berlin"}}]}}))
        self.assertEqual([h["id"] for h in hits["points"]], [3, 1])
        assert_ok(self, *self.req("POST", "/collections/f/points/delete",
                                  {"filter": {"must": [{"key": "city", "match": {"value": "Berlin"}}]}}))
        self.assertEqual(count({}), 2)

        status, body = self.req("POST", "/collections/f/points/count", {"filter": {"must": [{"key": "city"}]}})
        assert_error(self, status, body, 422, "At least one field condition must be specified")
        for bad, fragment in [({"must": [{"key": "c", "match": {"any": ["a", 1]}}]}, "match.any"),
                              ({"must": [{"key": "c", "match": {"value": "a"}, "range": {"gt": 1}}]},
                               "exactly one of"),
                              ({"must": [{"unknown": 1}]}, "unknown condition"),
                              ({"must": [{"key": "p", "range": {"gt": "x"}}]}, "RFC 3339"),
                              ({"must": [{"key": "c", "match": {"value": 1.5}}]}, "match.value"),
                              ({"must": [{"has_id": ["nope"]}]}, "not a valid point ID")]:
            status, body = self.req("POST", "/collections/f/points/count", {"filter": bad})
            assert_error(self, status, body, 400, fragment)
        deep = {"must": []}
        node = deep
        for _ in range(40):
            child = {"must": []}
            node["must"].append(child)
            node = child
        status, body = self.req("POST", "/collections/f/points/count", {"filter": deep})
        self.assertIn(status, (400,))


if __name__ == "__main__":
    unittest.main()
