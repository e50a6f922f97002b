"""Hostile-input suite: requests a careless or malicious client sends.

Each case asserts the status code and a JSON error naming the problem, and after each one the
server must still answer and the collection must be exactly as it was. Prints
`inputs=N crashes=N 5xx=N state_changed=N`; fails unless all three counts are 0 and every
status matched.
"""

import http.client
import json
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "http"))
from tessera_server import TesseraServer  # noqa: E402

C = "/collections/h"


def deep(n, leaf="1"):
    return "[" * n + leaf + "]" * n


CASES = [
    # (name, method, path, body (dict/list or raw str), expected status, fragment of the error)
    ("truncated object", "PUT", C + "/points", '{"points": [{"id": 1, "vector": [1, 2', 400, "Json deserialize error"),
    ("truncated string", "PUT", C + "/points", '{"points": "abc', 400, "Json deserialize error"),
    ("only a brace", "POST", C + "/points/scroll", "{", 400, "Json deserialize error"),
    ("trailing garbage", "POST", C + "/points/count", '{"exact": true} xyz', 400, "Json deserialize error"),
    ("empty body on upsert", "PUT", C + "/points", "", 400, "Json deserialize error"),
    ("nested 100", "POST", C + "/points/scroll", deep(100), 400, "Json deserialize error"),
    ("nested 10000", "POST", C + "/points/count", deep(10000), 400, "Json deserialize error"),
    ("nested objects", "PUT", C + "/points", '{"a":' * 200 + "1" + "}" * 200, 400, "Json deserialize error"),
    ("NaN token", "PUT", C + "/points", '{"points": [{"id": 9, "vector": [NaN, 1]}]}', 400, "Json deserialize error"),
    ("Infinity token", "PUT", C + "/points", '{"points": [{"id": 9, "vector": [Infinity, 1]}]}', 400, "Json deserialize error"),
    ("1e400 overflows", "PUT", C + "/points", '{"points": [{"id": 9, "vector": [1e400, 1]}]}', 400, "number out of range"),
    ("1e400 in a payload", "PUT", C + "/points", '{"points": [{"id": 9, "vector": [1, 1], "payload": {"x": 1e400}}]}', 400, "number out of range"),
    ("-1e400 in set payload", "POST", C + "/points/payload", '{"points": [1], "payload": {"x": -1e400}}', 400, "number out of range"),
    ("1e39 beyond float", "PUT", C + "/points", '{"points": [{"id": 9, "vector": [1e39, 1]}]}', 400, "finite"),
    ("points is an object", "PUT", C + "/points", {"points": {"id": 1}}, 400, "points"),
    ("id is a bool", "PUT", C + "/points", {"points": [{"id": True, "vector": [1, 2]}]}, 400, "points[0].id"),
    ("id is null", "PUT", C + "/points", {"points": [{"id": None, "vector": [1, 2]}]}, 400, "id"),
    ("id is a list", "PUT", C + "/points", {"points": [{"id": [1], "vector": [1, 2]}]}, 400, "points[0].id"),
    ("negative id", "PUT", C + "/points", {"points": [{"id": -5, "vector": [1, 2]}]}, 400, "points[0].id"),
    ("fractional id", "PUT", C + "/points", {"points": [{"id": 1.5, "vector": [1, 2]}]}, 400, "points[0].id"),
    ("2^64 id", "PUT", C + "/points", '{"points": [{"id": 18446744073709551616, "vector": [1, 2]}]}', 400, "points[0].id"),
    ("1e20 id", "PUT", C + "/points", '{"points": [{"id": 1e20, "vector": [1, 2]}]}', 400, "points[0].id"),
    ("bad uuid", "PUT", C + "/points", {"points": [{"id": "xyz", "vector": [1, 2]}]}, 400, "not a valid point ID"),
    ("short uuid", "PUT", C + "/points", {"points": [{"id": "550e8400-e29b-41d4-a716-44665544000", "vector": [1, 2]}]}, 400, "not a valid point ID"),
    ("uuid bad hex", "PUT", C + "/points", {"points": [{"id": "550e8400-e29b-41d4-a716-44665544000g", "vector": [1, 2]}]}, 400, "not a valid point ID"),
    ("vector is a string", "PUT", C + "/points", {"points": [{"id": 9, "vector": "1,2"}]}, 400, "points[0].vector"),
    ("vector is a number", "PUT", C + "/points", {"points": [{"id": 9, "vector": 3}]}, 400, "points[0].vector"),
    ("vector of strings", "PUT", C + "/points", {"points": [{"id": 9, "vector": ["a", "b"]}]}, 400, "points[0].vector[0]"),
    ("vector of nulls", "PUT", C + "/points", {"points": [{"id": 9, "vector": [None, None]}]}, 400, "points[0].vector[0]"),
    # A list of lists is a multivector, which the dense vector refuses as Qdrant does.
    ("nested vector", "PUT", C + "/points", {"points": [{"id": 9, "vector": [[1, 2]]}]}, 400, "Conversion between multi and regular vectors failed"),
    ("ragged multivector", "PUT", C + "/points", {"points": [{"id": 9, "vector": [[1, 2], [3]]}]}, 422, "points[0].vector.data: all vectors must have the same dimension, found vector with dimension 1"),
    ("multivector of strings", "PUT", C + "/points", {"points": [{"id": 9, "vector": [[1, 2], ["a", 3]]}]}, 400, "points[0].vector[1][0]"),
    ("wrong dimension", "PUT", C + "/points", {"points": [{"id": 9, "vector": [1, 2, 3]}]}, 400, "Vector dimension error"),
    ("empty vector", "PUT", C + "/points", {"points": [{"id": 9, "vector": []}]}, 422, "points[0].vector: dense vector must not be empty"),
    ("1e6-element vector", "PUT", C + "/points", '{"points": [{"id": 9, "vector": [' + ",".join(["0"] * 1000000) + "]}]}", 400, "Vector dimension error"),
    ("unknown vector name", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"nope": [1, 2]}}]}, 400, "Not existing vector name"),
    ("sparse vector", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"": {"indices": [1], "values": [1]}}}]}, 400, "Conversion between sparse and regular vectors failed"),
    ("sparse vector, unknown name", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"sp": {"indices": [1], "values": [1]}}}]}, 400, "Not existing vector name error: sp"),
    ("sparse vector, lengths differ", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"": {"indices": [1, 2], "values": [1]}}}]}, 422, "must be the same length as indices"),
    ("sparse vector, negative index", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"": {"indices": [-1], "values": [1]}}}]}, 400, "points[0].vector..indices[0]"),
    ("sparse vector, unknown field", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"": {"indices": [1], "values": [1], "x": 1}}}]}, 400, "unknown field `x`"),
    ("payload is a list", "PUT", C + "/points", {"points": [{"id": 9, "vector": [1, 2], "payload": [1]}]}, 400, "payload"),
    ("payload is a string", "PUT", C + "/points", {"points": [{"id": 9, "vector": [1, 2], "payload": "x"}]}, 400, "payload"),
    ("batch length mismatch", "PUT", C + "/points", {"batch": {"ids": [9, 10], "vectors": [[1, 2]]}}, 400, "vectors for 2 ids"),
    ("batch payloads mismatch", "PUT", C + "/points", {"batch": {"ids": [9], "vectors": [[1, 2]], "payloads": [{}, {}]}}, 400, "payloads"),
    ("batch without ids", "PUT", C + "/points", {"batch": {"vectors": [[1, 2]]}}, 400, "ids"),
    ("update missing point", "PUT", C + "/points/vectors", {"points": [{"id": 424242, "vector": [1, 2]}]}, 404, "No point with id 424242"),
    ("set payload missing point", "POST", C + "/points/payload", {"payload": {"a": 1}, "points": [424242]}, 404, "No point with id 424242"),
    ("delete payload keys not a list", "POST", C + "/points/payload/delete", {"keys": "a", "points": [1]}, 400, "keys"),
    ("clear payload without selector", "POST", C + "/points/payload/clear", {}, 400, "Either list of point ids or filter must be provided"),
    ("batch with a bad op last", "POST", C + "/points/batch", {"operations": [
        {"upsert": {"points": [{"id": 77, "vector": [1, 2]}]}}, {"delete": {"points": ["zz"]}}]}, 400, "not a valid point ID"),
    ("batch failing on state", "POST", C + "/points/batch", {"operations": [
        {"upsert": {"points": [{"id": 78, "vector": [1, 2]}]}}, {"set_payload": {"payload": {}, "points": [424242]}}]}, 404, "operation 1: set_payload"),
    # A filter with a key it does not know once deleted every point (the unknown key was dropped
    # and the rest read as match-all). Every write refuses what it cannot read.
    ("delete, misspelt must", "POST", C + "/points/delete", {"filter": {"musst": [{"key": "a", "match": {"value": 1}}]}}, 400, "filter.musst: unknown field `musst`"),
    ("delete, unknown condition field", "POST", C + "/points/delete", {"filter": {"must": [{"key": "a", "match": {"value": 1}, "mach": 2}]}}, 400, "filter.must[0].mach: unknown field `mach`"),
    ("delete, misspelt match kind", "POST", C + "/points/delete", {"filter": {"must": [{"key": "a", "match": {"valeu": 1}}]}}, 400, "unknown field `valeu`"),
    ("delete, misspelt range bound", "POST", C + "/points/delete", {"filter": {"must": [{"key": "a", "range": {"gtee": 1}}]}}, 400, "unknown field `gtee`"),
    ("delete, nested filter typo", "POST", C + "/points/delete", {"filter": {"must": [{"nested": {"key": "tags", "filter": {"shuold": []}}}]}}, 400, "unknown field `shuold`"),
    ("delete, nested extra key", "POST", C + "/points/delete", {"filter": {"must": [{"nested": {"key": "tags", "filter": {}, "x": 1}}]}}, 400, "unknown field `x`"),
    ("delete, is_empty extra key", "POST", C + "/points/delete", {"filter": {"must_not": [{"is_empty": {"key": "a", "k": 1}}]}}, 400, "unknown field `k`"),
    ("delete, min_should typo", "POST", C + "/points/delete", {"filter": {"min_should": {"min_count": 1, "condition": []}}}, 400, "`condition"),
    ("delete, min_count 0", "POST", C + "/points/delete", {"filter": {"min_should": {"min_count": 0, "conditions": []}}}, 422, "value 0 invalid, must be 1 or larger"),
    ("delete, misspelt selector", "POST", C + "/points/delete", {"fliter": {"must": []}}, 400, "unknown field `fliter`"),
    ("delete, shard key", "POST", C + "/points/delete", {"points": [1], "shard_key": "s"}, 400, "custom sharding"),
    ("clear payload, misspelt must", "POST", C + "/points/payload/clear", {"filter": {"musst": []}}, 400, "unknown field `musst`"),
    ("delete payload, misspelt must", "POST", C + "/points/payload/delete", {"keys": ["a"], "filter": {"musst": []}}, 400, "unknown field `musst`"),
    ("set payload, misspelt must", "POST", C + "/points/payload", {"payload": {"x": 1}, "filter": {"musst": []}}, 400, "unknown field `musst`"),
    ("overwrite payload, misspelt must", "PUT", C + "/points/payload", {"payload": {"x": 1}, "filter": {"musst": []}}, 400, "unknown field `musst`"),
    ("set payload, bad filter beside points", "POST", C + "/points/payload", {"payload": {"x": 1}, "points": [1], "filter": {"must": [{"key": "a"}]}}, 422, "At least one field condition must be specified"),
    ("set payload, unknown field", "POST", C + "/points/payload", {"payload": {"x": 1}, "points": [1], "kye": "a"}, 400, "unknown field `kye`"),
    ("delete vectors, misspelt must", "POST", C + "/points/vectors/delete", {"vector": [""], "filter": {"musst": []}}, 400, "unknown field `musst`"),
    ("batch delete, misspelt must", "POST", C + "/points/batch", {"operations": [{"delete": {"filter": {"musst": []}}}]}, 400, "operations[0].delete.filter.musst: unknown field"),
    ("batch, unknown top field", "POST", C + "/points/batch", {"operations": [{"delete": {"points": [1]}}], "x": 1}, 400, "unknown field `x`"),
    ("upsert, unknown field", "PUT", C + "/points", {"points": [{"id": 1, "vector": [1, 2]}], "surprise": True}, 400, "unknown field `surprise`"),
    ("upsert, unknown point field", "PUT", C + "/points", {"points": [{"id": 1, "vector": [1, 2], "paylod": {"a": 1}}]}, 400, "points[0].paylod: unknown field"),
    ("upsert, unknown batch field", "PUT", C + "/points", {"batch": {"ids": [1], "vectors": [[1, 2]], "payload": [{}]}}, 400, "batch.payload: unknown field"),
    ("upsert, update filter", "PUT", C + "/points", {"points": [{"id": 1, "vector": [1, 2]}], "update_filter": {"must": []}}, 400, "update_filter"),
    ("upsert, update mode", "PUT", C + "/points", {"points": [{"id": 1, "vector": [1, 2]}], "update_mode": "insert_only"}, 400, "update_mode"),
    ("update vectors, unknown field", "PUT", C + "/points/vectors", {"points": [{"id": 1, "vector": [1, 2], "x": 1}]}, 400, "unknown field `x`"),
    # Reads refuse a filter they cannot read too, as Qdrant does.
    ("count, misspelt must", "POST", C + "/points/count", {"filter": {"musst": []}}, 400, "unknown field `musst`"),
    ("scroll, payload selector typo", "POST", C + "/points/scroll", {"with_payload": {"include": ["a"], "x": 1}}, 400, "unknown field `x`"),
    # Key paths in Qdrant's JsonPath grammar wherever a key is taken; anything else changes nothing.
    *[(f"set payload key {k!r}", "POST", C + "/points/payload", {"payload": {"x": 1}, "points": [1], "key": k}, 400, "Invalid json path")
      for k in ["a..b", "a[", "", "a[-1]", "a.", "a]", "[", "a[99999999999999999999]"]],
    *[(f"delete payload key {k!r}", "POST", C + "/points/payload/delete", {"keys": [k], "points": [1]}, 400, "Invalid json path")
      for k in ["a..b", "a[", "", "a[-1]", "a.", "a]", "[", "a[99999999999999999999]"]],
    ("overwrite payload key", "PUT", C + "/points/payload", {"payload": {"x": 1}, "points": [1], "key": "a..b"}, 400, "key: Invalid json path: 'a..b'"),
    ("batch set payload key", "POST", C + "/points/batch", {"operations": [{"set_payload": {"payload": {"x": 1}, "points": [1], "key": "a["}}]}, 400, "Invalid json path: 'a['"),
    ("filter key", "POST", C + "/points/delete", {"filter": {"must": [{"key": "a..b", "match": {"value": 1}}]}}, 400, "filter.must[0].key: Invalid json path"),
    ("filter empty key", "POST", C + "/points/delete", {"filter": {"must_not": [{"key": "", "match": {"value": 1}}]}}, 400, "Invalid json path: ''"),
    ("is_empty key", "POST", C + "/points/delete", {"filter": {"must": [{"is_empty": {"key": "a["}}]}}, 400, "Invalid json path"),
    ("is_null key", "POST", C + "/points/delete", {"filter": {"must": [{"is_null": {"key": "a]"}}]}}, 400, "Invalid json path"),
    ("nested key", "POST", C + "/points/delete", {"filter": {"must": [{"nested": {"key": "tags.", "filter": {}}}]}}, 400, "Invalid json path"),
    ("index field name", "PUT", C + "/index", {"field_name": "s[", "field_schema": "keyword"}, 400, "Invalid json path: 's['"),
    ("index field name, 100k characters", "PUT", C + "/index", {"field_name": "a" * 50000 + " " + "b" * 50000, "field_schema": "keyword"}, 400, "Invalid json path"),
    ("delete index bad name", "DELETE", C + "/index/a..b", None, 400, "Invalid json path"),
    ("order_by key", "POST", C + "/points/scroll", {"order_by": "a..b"}, 400, "order_by: Invalid json path"),
    ("order_by object key", "POST", C + "/points/scroll", {"order_by": {"key": "a["}}, 400, "order_by.key: Invalid json path"),
    ("group_by key", "POST", C + "/points/query/groups", {"query": [1, 2], "group_by": "a..b"}, 400, "group_by: Invalid json path"),
    ("with_payload key", "POST", C + "/points/scroll", {"with_payload": ["a["]}, 400, "with_payload: Invalid json path"),
    ("with_payload include key", "POST", C + "/points/scroll", {"with_payload": {"include": ["a.."]}}, 400, "Invalid json path"),
    ("with_payload exclude key", "POST", C + "/points/scroll", {"with_payload": {"exclude": [""]}}, 400, "Invalid json path"),
    # Query parameters are checked against the schema before anything runs.
    ("delete collection, bad timeout", "DELETE", C + "?timeout=abc", None, 400, "timeout"),
    ("delete collection, zero timeout", "DELETE", C + "?timeout=0", None, 400, "timeout"),
    ("delete points, bad wait", "POST", C + "/points/delete?wait=1", {"points": [1]}, 400, "wait: provided string was not `true` or `false`"),
    ("delete points, bad ordering", "POST", C + "/points/delete?ordering=fast", {"points": [1]}, 400, "ordering: unknown variant `fast`"),
    ("create index, bad wait", "PUT", C + "/index?wait=maybe", {"field_name": "a", "field_schema": "integer"}, 400, "wait"),
    ("delete index, bad ordering", "DELETE", C + "/index/a?ordering=x", None, 400, "ordering"),
    ("query, bad timeout", "POST", C + "/points/query?timeout=abc", {"query": [1, 2]}, 400, "timeout"),
    ("scroll, bad consistency", "POST", C + "/points/scroll?consistency=most", {}, 400, "consistency"),
    ("count, zero consistency", "POST", C + "/points/count?consistency=0", {}, 400, "consistency"),
    ("metrics, bad anonymize", "GET", "/metrics?anonymize=yes", None, 400, "anonymize"),
    ("optimizations, bad completed_limit", "GET", C + "/optimizations?completed_limit=-1", None, 400, "completed_limit"),
    ("recover, bad priority", "PUT", C + "/snapshots/recover?priority=first", {"location": "file:///nope"}, 400, "priority"),
    # Bytes that are not UTF-8 never become a name, and never reach an answer.
    ("collection name not UTF-8", "PUT", "/collections/bad%ff%fe", {"vectors": {"size": 2, "distance": "Dot"}}, 400, "not valid UTF-8"),
    ("alias name not UTF-8", "GET", "/collections/%c3%28/exists", None, 400, "not valid UTF-8"),
    ("query value not UTF-8", "POST", C + "/points/count?x=%ff", {}, 400, "not valid UTF-8"),
    ("batch op unknown", "POST", C + "/points/batch", {"operations": [{"drop_table": {}}]}, 400, "unknown variant"),
    ("batch op two keys", "POST", C + "/points/batch", {"operations": [{"delete": {"points": [1]}, "upsert": {}}]}, 400, "exactly one operation"),
    ("batch empty", "POST", C + "/points/batch", {"operations": []}, 422, "at least one operation"),
    ("absurd limit", "POST", C + "/points/scroll", {"limit": 10 ** 12}, 422, "limit"),
    ("negative limit", "POST", C + "/points/scroll", {"limit": -1}, 400, "limit"),
    ("limit as text", "POST", C + "/points/scroll", {"limit": "ten"}, 400, "limit"),
    ("zero limit", "POST", C + "/points/query", {"query": [1, 2], "limit": 0}, 422, "limit"),
    ("absurd ef", "POST", C + "/points/query", {"query": [1, 2], "params": {"hnsw_ef": 10 ** 9}}, 422, "hnsw_ef"),
    # Fields of the schema this server does not implement: named, never ignored.
    ("mmr unknown field", "POST", C + "/points/query", {"query": {"nearest": [1, 2], "mmr": {"x": 1}}}, 400, "unknown field `x`"),
    ("nearest beside another key", "POST", C + "/points/query", {"query": {"nearest": [1, 2], "y": 1}}, 400, "unknown field `y`"),
    ("sample beside another key", "POST", C + "/points/query", {"query": {"sample": "random", "q": 1}}, 400, "unknown field `q`"),
    ("order_by query unknown field", "POST", C + "/points/query", {"query": {"order_by": {"key": "a", "w": 1}}}, 400, "unknown field `w`"),
    ("recommend unknown field", "POST", C + "/points/query", {"query": {"recommend": {"positive": [1], "pos": [2]}}}, 400, "unknown field `pos`"),
    ("feedback item unknown field", "POST", C + "/points/query", {"query": {"relevance_feedback": {"target": [1, 2], "feedback": [{"example": [1, 2], "score": 1, "z": 2}], "strategy": {"naive": {"a": 1, "b": 1, "c": 1}}}}}, 400, "unknown field `z`"),
    ("feedback naive unknown field", "POST", C + "/points/query", {"query": {"relevance_feedback": {"target": [1, 2], "feedback": [{"example": [1, 2], "score": 1}], "strategy": {"naive": {"a": 1, "b": 1, "c": 1, "d": 3}}}}}, 400, "unknown field `d`"),
    ("matrix unknown field", "POST", C + "/points/search/matrix/pairs", {"samplee": 3}, 400, "unknown field `samplee`"),
    ("mmr diversity out of range", "POST", C + "/points/query", {"query": {"nearest": [1, 2], "mmr": {"diversity": 1.5}}}, 422, "must be from 0.0 to 1.0"),
    ("indexed_only not implemented", "POST", C + "/points/query", {"query": [1, 2], "params": {"indexed_only": True}}, 400, "params.indexed_only"),
    ("lookup_from missing collection", "POST", C + "/points/query", {"query": 1, "lookup_from": {"collection": "nope"}}, 404, "Collection nope not found"),
    ("lookup_from unknown field", "POST", C + "/points/query", {"query": 1, "lookup_from": {"collection": "h", "x": 1}}, 400, "unknown field"),
    ("shard_key on a query", "POST", C + "/points/query", {"query": [1, 2], "shard_key": "a"}, 400, "shard_key"),
    ("acorn selectivity over 1", "POST", C + "/points/search", {"vector": [1, 2], "limit": 3, "params": {"acorn": {"enable": True, "max_selectivity": 1.5}}}, 422, "max_selectivity"),
    ("acorn enable as text", "POST", C + "/points/query", {"query": [1, 2], "params": {"acorn": {"enable": "yes"}}}, 400, "enable"),
    ("query is text", "POST", C + "/points/query", {"query": "abc"}, 400, "not a valid point ID"),
    ("discover without target", "POST", C + "/points/query", {"query": {"discover": {}}}, 400, "missing field `target`"),
    ("recommend without examples", "POST", C + "/points/query", {"query": {"recommend": {"strategy": "best_score"}}}, 422, "At least one positive or negative"),
    ("query wrong dimension", "POST", C + "/points/query", {"query": [1, 2, 3]}, 400, "Vector dimension error"),
    ("with_payload number", "POST", C + "/points", {"ids": [1], "with_payload": 5}, 400, "with_payload"),
    ("with_vector object", "POST", C + "/points", {"ids": [1], "with_vector": {"a": 1}}, 400, "with_vector"),
    ("ids missing", "POST", C + "/points", {"with_payload": True}, 400, "ids"),
    ("scroll offset bad uuid", "POST", C + "/points/scroll", {"offset": "nope"}, 400, "not a valid point ID"),
    ("filter unknown condition", "POST", C + "/points/count", {"filter": {"must": [{"foo": 1}]}}, 400, "unknown condition"),
    ("filter deep", "POST", C + "/points/count", {"filter": json.loads('{"must": ' * 40 + "{}" + "}" * 40)}, 400, "nested deeper"),
    ("filter deeper than JSON allows", "POST", C + "/points/count", {"filter": json.loads('{"must": [' * 40 + "{}" + "]}" * 40)}, 400, "too deep"),
    ("filter bad latitude", "POST", C + "/points/count", {"filter": {"must": [{"key": "loc", "geo_radius": {"center": {"lon": 0, "lat": 100}, "radius": 5}}]}}, 422, "latitude"),
    ("filter match list", "POST", C + "/points/count", {"filter": {"must": [{"key": "a", "match": {"value": [1]}}]}}, 400, "match.value"),
    ("filter range text", "POST", C + "/points/count", {"filter": {"must": [{"key": "a", "range": {"gt": "soon"}}]}}, 400, "RFC 3339"),
    ("filter is a list", "POST", C + "/points/count", {"filter": [1]}, 400, "filter"),
    ("delete by filter bad", "POST", C + "/points/delete", {"filter": {"must": {"key": "a"}}}, 422, "At least one field condition must be specified"),
    ("wait not boolean", "PUT", C + "/points?wait=yes", {"points": [{"id": 9, "vector": [1, 2]}]}, 400, "wait"),
    ("ordering unknown", "PUT", C + "/points?ordering=now", {"points": [{"id": 9, "vector": [1, 2]}]}, 400, "ordering"),
    ("timeout negative", "PUT", C + "/points?timeout=-1", {"points": [{"id": 9, "vector": [1, 2]}]}, 400, "timeout"),
    ("bad percent escape", "GET", C + "/points/%zz", None, 400, "percent-encoding"),
    ("traversal in name", "PUT", "/collections/..%2F..%2Fetc", {"vectors": {"size": 2, "distance": "Dot"}}, 422, "collection name"),
    ("NUL in name", "PUT", "/collections/a%00b", {"vectors": {"size": 2, "distance": "Dot"}}, 422, "collection name"),
    ("dot name", "PUT", "/collections/..", {"vectors": {"size": 2, "distance": "Dot"}}, 422, "collection name"),
    ("long name", "PUT", "/collections/" + "n" * 300, {"vectors": {"size": 2, "distance": "Dot"}}, 422, "collection name"),
    ("existing collection", "PUT", C, {"vectors": {"size": 2, "distance": "Dot"}}, 409, "already exists"),
    ("size zero", "PUT", "/collections/h2", {"vectors": {"size": 0, "distance": "Dot"}}, 422, "vectors.size"),
    ("size huge", "PUT", "/collections/h2", {"vectors": {"size": 70000, "distance": "Dot"}}, 422, "vectors.size"),
    ("distance lowercase", "PUT", "/collections/h2", {"vectors": {"size": 2, "distance": "cos"}}, 400, "unknown variant"),
    ("vectors a list", "PUT", "/collections/h2", {"vectors": [2]}, 400, "vectors"),
    ("hnsw m negative", "PUT", "/collections/h2", {"vectors": {"size": 2, "distance": "Dot"}, "hnsw_config": {"m": -1}}, 400, "hnsw_config.m"),
    ("alias to missing", "POST", "/collections/aliases", {"actions": [{"create_alias": {"collection_name": "nope", "alias_name": "x"}}]}, 404, "nope"),
    ("alias bad name", "POST", "/collections/aliases", {"actions": [{"create_alias": {"collection_name": "h", "alias_name": "a/b"}}]}, 422, "collection name"),
    ("alias actions object", "POST", "/collections/aliases", {"actions": {}}, 400, "actions"),
    ("index bad schema", "PUT", C + "/index", {"field_name": "a", "field_schema": "blob"}, 400, "unknown variant"),
    ("index without name", "PUT", C + "/index", {"field_schema": "keyword"}, 400, "field_name"),
    ("method not allowed", "DELETE", C + "/points", None, 405, "Method Not Allowed"),
    ("patch on scroll", "PATCH", C + "/points/scroll", {}, 405, "Method Not Allowed"),
    ("strict mode on update", "PATCH", C, {"strict_mode_config": {"enabled": True, "max_query_limit": 5}}, 400, "strict_mode_config.enabled"),
    ("strict mode on create", "PUT", "/collections/h_strict", {"vectors": {"size": 2, "distance": "Dot"}, "strict_mode_config": {"unindexed_filtering_retrieve": False}}, 400, "strict mode is not supported"),
    ("unknown route", "GET", "/collections/h/points/scroll/more", None, 404, "Not found"),
    ("text content type, bad body", "PUT", C + "/points", ("text/plain", "hello"), 400, "Json deserialize error"),
    # Sparse vectors ("s") and multivectors ("m") beside the default vector.
    ("sparse: repeated index", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"s": {"indices": [3, 1, 3], "values": [1, 2, 3]}}}]}, 422, "points[0].vector.?.indices: Validation error: must be unique"),
    ("sparse: index over u32", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"s": {"indices": [4294967296], "values": [1]}}}]}, 400, "indices"),
    ("sparse: negative index", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"s": {"indices": [-1], "values": [1]}}}]}, 400, "indices"),
    ("sparse: value over f32", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"s": {"indices": [1], "values": [1e39]}}}]}, 400, "finite 32-bit floats"),
    ("sparse: values not a list", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"s": {"indices": [1], "values": 1}}}]}, 400, "values"),
    ("sparse: extra field", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"s": {"indices": [1], "values": [1], "x": 1}}}]}, 400, "unknown field `x`"),
    ("sparse: a dense value", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"s": [1, 2]}}]}, 400, "Conversion between sparse and regular vectors failed"),
    ("sparse: in a column batch", "PUT", C + "/points", {"batch": {"ids": [9], "vectors": {"s": [{"indices": [1, 1], "values": [1, 2]}]}}}, 422, "must be unique"),
    ("sparse: update with a repeated index", "PUT", C + "/points/vectors", {"points": [{"id": 1, "vector": {"s": {"indices": [2, 2], "values": [1, 1]}}}]}, 422, "must be unique"),
    ("sparse query for a dense name", "POST", C + "/points/query", {"query": {"indices": [1], "values": [1]}}, 400, "Conversion between sparse and regular vectors failed"),
    ("dense query for a sparse name", "POST", C + "/points/query", {"query": [1, 2], "using": "s"}, 400, "Conversion between sparse and regular vectors failed"),
    ("sparse query with a repeated index", "POST", C + "/points/query", {"query": {"indices": [1, 1], "values": [1, 1]}, "using": "s"}, 422, "must be unique"),
    ("idf corpus", "POST", C + "/points/query", {"query": {"indices": [1], "values": [1]}, "using": "s", "params": {"idf": {"corpus": {"must": []}}}}, 400, "params.idf"),
    ("multi: ragged rows", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"m": [[1, 2], [3]]}}]}, 422, "points[0].vector.?.data: all vectors must have the same dimension"),
    ("multi: an empty row", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"m": [[]]}}]}, 422, "points[0].vector.?.data: all vectors must be non-empty"),
    ("multi: wrong dimension", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"m": [[1, 2, 3]]}}]}, 400, "Vector dimension error: expected dim: 2, got 3"),
    ("multi: a sparse value", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"m": {"indices": [1], "values": [1]}}}]}, 400, "Conversion between sparse and regular vectors failed"),
    ("multi for the dense name", "PUT", C + "/points", {"points": [{"id": 9, "vector": {"": [[1, 2], [3, 4]]}}]}, 400, "Conversion between multi and regular vectors failed"),
    ("multi query, wrong dimension", "POST", C + "/points/query", {"query": [[1, 2, 3]], "using": "m"}, 400, "Vector dimension error"),
    ("multi query for the dense name", "POST", C + "/points/query", {"query": [[1, 2]]}, 400, "Conversion between multi and regular vectors failed"),
    ("update vectors with none", "PUT", C + "/points/vectors", {"points": [{"id": 1, "vector": {}}]}, 422, "must specify vectors to update for point"),
    ("selector of an unknown vector", "POST", C + "/points", {"ids": [1], "with_vector": ["nope"]}, 400, "Not existing vector name error: nope"),
    ("with_vector and with_vectors", "POST", C + "/points/scroll", {"with_vector": True, "with_vectors": True}, 400, "duplicate field"),
    ("rrf weights not one per prefetch", "POST", C + "/points/query", {"prefetch": [{"query": [1, 2]}], "query": {"rrf": {"weights": [1, 2]}}}, 400, "Number of weights in RRF"),
    ("rrf k 0", "POST", C + "/points/query", {"prefetch": [{"query": [1, 2]}], "query": {"rrf": {"k": 0}}}, 422, "k"),
    ("fusion with using", "POST", C + "/points/query", {"prefetch": [{"query": [1, 2]}], "query": {"fusion": "dbsf"}, "using": ""}, 400, "Fusion queries cannot be combined with the 'using' field."),
    ("sparse datatype turbo4", "PUT", "/collections/h_t4", {"sparse_vectors": {"t": {"index": {"datatype": "turbo4"}}}}, 422, "sparse vectors do not support the `turbo4` datatype"),
    ("dense and sparse with one name", "PUT", "/collections/h_dup", {"vectors": {"a": {"size": 2, "distance": "Dot"}}, "sparse_vectors": {"a": {}}}, 400, "Dense and sparse vector names must be unique"),
    ("unknown multivector comparator", "PUT", "/collections/h_mc", {"vectors": {"size": 2, "distance": "Dot", "multivector_config": {"comparator": "sum"}}}, 400, "comparator"),
    ("sparse modifier unknown", "PATCH", C, {"sparse_vectors": {"s": {"modifier": "bm42"}}}, 400, "modifier"),
    ("sparse update of an unknown name", "PATCH", C, {"sparse_vectors": {"nope": {}}}, 400, "nope"),
]


class HostileTest(unittest.TestCase):
    def test_hostile_inputs(self):
        server = TesseraServer().start()
        crashes = fivexx = changed = 0
        mismatches = []
        try:
            status, body, _ = server.request("PUT", C, {
                "vectors": {"": {"size": 2, "distance": "Dot"},
                            "m": {"size": 2, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}}},
                "sparse_vectors": {"s": {}}})
            assert status == 200, body
            status, body, _ = server.request("PUT", C + "/points", {"points": [
                {"id": i, "vector": {"": [i, 1], "s": {"indices": [i, 9], "values": [1, 0.5]},
                                     "m": [[i, 1], [1, i]]},
                 "payload": {"a": i, "tags": ["x"]}} for i in range(5)]})
            assert status == 200, body

            def snapshot():
                s, b, _ = server.request("POST", C + "/points/scroll",
                                         {"limit": 1000, "with_payload": True, "with_vector": True})
                s2, b2, _ = server.request("GET", C)
                s3, b3, _ = server.request("GET", "/collections")
                return (s, json.dumps(b["result"], sort_keys=True), s2,
                        json.dumps([b2["result"]["config"], b2["result"].get("payload_schema")],
                                   sort_keys=True),
                        json.dumps(b3["result"], sort_keys=True))

            before = snapshot()
            for name, method, path, body, expected, fragment in CASES:
                headers = None
                raw = None
                if isinstance(body, tuple):
                    headers = {"Content-Type": body[0]}
                    raw = body[1]
                elif isinstance(body, str):
                    raw = body
                try:
                    status, reply, _ = server.request(method, path, None if raw is not None else body,
                                                      headers=headers, raw=raw)
                except (OSError, http.client.HTTPException) as e:
                    crashes += 1
                    mismatches.append(f"{name}: no answer ({e})")
                    server.stop()
                    server.start()
                    continue
                if status >= 500:
                    fivexx += 1
                ok = status == expected and isinstance(reply, dict) and "result" not in reply and \
                    isinstance(reply.get("status"), dict) and fragment in reply["status"].get("error", "")
                if not ok:
                    mismatches.append(f"{name}: {status} {str(reply)[:200]} (expected {expected} with {fragment!r})")
                if server.proc.poll() is not None:
                    crashes += 1
                    server.start()
                if snapshot() != before:
                    changed += 1
                    mismatches.append(f"{name}: changed the collection")
                    before = snapshot()

            # Transport-level abuse: garbage, a huge header, an oversized body. The server must
            # answer 4xx or close, and keep serving.
            extra = 0
            for raw_request in [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n",
                                b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"]:
                extra += 1
                with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
                    try:
                        s.sendall(raw_request)
                        data = s.recv(65536)
                    except OSError:
                        data = b""
                    if data and not (data.startswith(b"HTTP/1.1 4") or data.startswith(b"HTTP/1.0 4")):
                        mismatches.append(f"raw request {raw_request[:20]!r}: {data[:80]!r}")
            # Malformed framing (RFC 9112): answered 400 with a JSON error, then closed.
            framing = [
                b"POST " + C.encode() + b"/points/delete HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                b"POST " + C.encode() + b"/points/delete HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
                b"POST " + C.encode() + b"/points/delete HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n11\r\n{\"filter\": {}}\r\n0\r\n\r\n",
                b"POST " + C.encode() + b"/points/delete HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
                b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
            ]
            for raw_request in framing:
                extra += 1
                with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
                    data = b""
                    try:
                        s.sendall(raw_request)
                        while True:
                            chunk = s.recv(65536)
                            if not chunk:
                                break
                            data += chunk
                    except OSError:
                        pass
                    head, _, payload = data.partition(b"\r\n\r\n")
                    if not head.startswith(b"HTTP/1.1 400") or b"Connection: close" not in head or \
                            b'"error"' not in payload:
                        mismatches.append(f"framing {raw_request[:60]!r}: {data[:100]!r}")
            status, reply, _ = server.request("PUT", C + "/points", raw='{"points": []' + " " * (33 << 20) + "}")
            extra += 1
            if status != 400 or "larger than allowed" not in reply["status"]["error"]:
                mismatches.append(f"oversized body: {status}")
            if server.proc.poll() is not None:
                crashes += 1
            if snapshot() != before:
                changed += 1
            print(f"\ninputs={len(CASES) + extra} crashes={crashes} 5xx={fivexx} state_changed={changed}")
        finally:
            server.stop()
        self.assertEqual(mismatches, [])
        self.assertEqual((crashes, fivexx, changed), (0, 0, 0))


if __name__ == "__main__":
    unittest.main()


class OddButValidTest(unittest.TestCase):
    """Inputs that look odd but are valid in Qdrant's API: accepted, with Qdrant's meaning."""

    def test_odd_but_valid_inputs(self):
        with TesseraServer() as server:
            def req(*args, **kwargs):
                status, body, _ = server.request(*args, **kwargs)
                self.assertEqual(status, 200, body)
                return body["result"]
            req("PUT", C, {"vectors": {"size": 2, "distance": "Dot"}, "unknown_field": {"x": 1}})
            # Duplicate ids in one request: applied in order, the last one wins.
            req("PUT", C + "/points", {"points": [{"id": 1, "vector": [1, 0], "payload": {"v": "first"}},
                                                   {"id": 1, "vector": [0, 1], "payload": {"v": "last"}}]})
            # Unicode and empty payload keys, null optional fields, integers as floats.
            req("PUT", C + "/points", {"points": [{"id": 2, "vector": [3, 4], "payload": {"ключ": "значение", "": 1, "emoji": "🙂"}}],
                                       "shard_key": None, "update_filter": None, "update_mode": "upsert"})
            got = {r["id"]: r for r in req("POST", C + "/points", {"ids": [1, 2], "with_vector": True})}
            self.assertEqual(got[1]["payload"], {"v": "last"})
            self.assertEqual(got[1]["vector"], [0.0, 1.0])
            self.assertEqual(got[2]["payload"], {"ключ": "значение", "": 1, "emoji": "🙂"})
            self.assertEqual(req("POST", C + "/points/count", {"filter": {"must": [{"key": "ключ", "match": {"value": "значение"}}]}}),
                             {"count": 1})
            # Valid JSON sent with another content type is read as JSON (curl -d sends form type).
            status, body, _ = server.request("POST", C + "/points/count", raw="{}",
                                             headers={"Content-Type": "application/x-www-form-urlencoded"})
            self.assertEqual((status, body["result"]), (200, {"count": 2}))
            # A UUID in upper case or the simple form is the same point as its canonical form.
            req("PUT", C + "/points", {"points": [{"id": "550E8400-E29B-41D4-A716-446655440000", "vector": [1, 1]}]})
            got = req("POST", C + "/points", {"ids": ["550e8400e29b41d4a716446655440000"]})
            self.assertEqual([r["id"] for r in got], ["550e8400-e29b-41d4-a716-446655440000"])
            # Any u64 limit and offset of a query, as Qdrant takes them (qdrant/qdrant#5483): at
            # most every point comes back.
            hits = req("POST", C + "/points/query", {"query": [1, 2], "limit": 18446744073709551615})
            self.assertEqual(len(hits["points"]), 3)
            self.assertEqual(req("POST", C + "/points/query", {"query": [1, 2], "offset": 10 ** 9})["points"], [])
            self.assertEqual(len(req("POST", C + "/points/query", {"limit": 18446744073709551615})["points"]), 3)
