#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/). Run once after changing the
request vocabulary; the files are committed. WAL seeds come from a real server's log:

    python3 tests/fuzz/make_seeds.py build/tessera
"""

import glob
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "http"))
from tessera_server import TesseraServer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

# fuzz_api.cpp's route table, by index.
F = {"key": "k", "match": {"value": "a"}}
API = {
    0: [{"points": [{"id": 5, "vector": [1, 2, 3, 4], "payload": {"k": "c"}}]},
        {"batch": {"ids": [6, "6f1c2a8e-7b3d-4c5e-9f00-112233445567"],
                   "vectors": [[1, 0, 0, 0], [0, 0, 1, 0]], "payloads": [{"a": 1}, None]}},
        {"points": [{"id": 7, "vector": {"img": [1, 2, 3]}}]},
        {"points": [{"id": 8, "vector": {"sp": {"indices": [1, 9], "values": [0.5, 2]},
                                         "mv": [[1, 0], [0, 1], [1, 1]], "idf": {"indices": [], "values": []}}}]},
        {"batch": {"ids": [10, 11], "vectors": {"sp": [{"indices": [2], "values": [1]},
                                                       {"indices": [2, 3], "values": [1, 1]}]}}}],
    1: [{"points": [3]}, {"filter": {"must": [F]}}],
    2: [{"payload": {"x": 1}, "points": [1]}, {"payload": {"y": {"z": 2}}, "key": "d.e",
                                               "filter": {"must_not": [F]}}],
    3: [{"payload": {"x": 1}, "points": [1, 3]}],
    4: [{"keys": ["k", "arr[].x"], "points": [1]}],
    5: [{"points": [1]}, {"filter": {"should": [{"has_id": [1, 3]}]}}],
    6: [{"points": [{"id": 1, "vector": [0, 0, 0, 1]}]}, {"points": [{"id": 1, "vector": {"txt": [1, 1]}}]},
        {"points": [{"id": 2, "vector": {"sp": {"indices": [7, 3], "values": [1, -1]}, "mv": [[1, 2]]}}]}],
    7: [{"points": [1], "vector": ["txt"]}, {"points": [1, 2], "vector": ["sp", "mv"]}],
    8: [{"operations": [{"upsert": {"points": [{"id": 9, "vector": [1, 1, 1, 1]}]}},
                        {"set_payload": {"payload": {"a": 1}, "points": [9]}},
                        {"delete_vectors": {"points": [9], "vector": [""]}},
                        {"delete": {"points": [9]}}]}],
    9: [{"ids": [1, 3, "6f1c2a8e-7b3d-4c5e-9f00-112233445566"], "with_payload": ["k"], "with_vector": True}],
    10: [{"limit": 2, "offset": 1, "with_payload": {"exclude": ["arr"]}},
         {"filter": {"must": [{"key": "n", "range": {"gte": 1, "lt": 3}}]}, "order_by": "n"}],
    11: [{"filter": {"must": [{"is_empty": {"key": "k"}}]}, "exact": True}],
    12: [{"query": [1, 0, 0, 0], "limit": 2, "params": {"hnsw_ef": 16}},
         {"query": {"recommend": {"positive": [1], "negative": [3]}}, "using": ""},
         {"prefetch": [{"query": [1, 0, 0, 0], "limit": 5}, {"query": 3}], "query": {"fusion": "rrf"}},
         {"query": {"nearest": [1, 2, 3]}, "using": "img", "filter": {"must": [F]},
          "score_threshold": 0.1, "with_payload": True},
         {"query": {"indices": [1, 5], "values": [1, 0.5]}, "using": "sp", "with_vector": ["sp"]},
         {"query": {"nearest": {"indices": [5], "values": [1]}}, "using": "idf"},
         {"query": [[1, 0], [0.5, 0.5]], "using": "mv", "limit": 3},
         {"query": {"recommend": {"positive": [1], "negative": [2]}}, "using": "sp"},
         {"prefetch": [{"query": {"indices": [1], "values": [1]}, "using": "sp"},
                       {"query": [1, 2, 3], "using": "img"}],
          "query": {"rrf": {"k": 5, "weights": [2, 1]}}},
         {"prefetch": [{"limit": 3}], "query": {"fusion": "dbsf"}},
         {"limit": 2, "offset": 1, "filter": {"must": [F]}}],
    13: [{"searches": [{"query": [1, 0, 0, 0]}, {"query": 1, "limit": 1}]}],
    14: [{"query": [1, 0, 0, 0], "group_by": "k", "group_size": 2, "limit": 3}],
    15: [{"vector": [1, 0, 0, 0], "limit": 3, "filter": {"must": [{"key": "g", "geo_radius": {
        "center": {"lat": 52.5, "lon": 13.4}, "radius": 1000}}]}},
         {"vector": {"name": "img", "vector": [1, 2, 3]}, "limit": 1}],
    16: [{"searches": [{"vector": [1, 0, 0, 0], "limit": 1}]}],
    17: [{"positive": [1], "negative": [3], "limit": 2}, {"positive": [1], "using": "img"}],
    18: [{"searches": [{"positive": [1], "limit": 1}]}],
    19: [{"optimizers_config": {"indexing_threshold": 100}}, {"hnsw_config": {"ef_construct": 50}},
         {"sparse_vectors": {"sp": {"index": {"on_disk": True}, "modifier": "idf"}}},
         {"params": {"on_disk_payload": True}}],
    20: [{"field_name": "k", "field_schema": "keyword"},
         {"field_name": "n", "field_schema": {"type": "integer", "range": True}}],
    21: [{"actions": [{"create_alias": {"collection_name": "plain", "alias_name": "p2"}},
                      {"rename_alias": {"old_alias_name": "p2", "new_alias_name": "p3"}},
                      {"delete_alias": {"alias_name": "p3"}}]}],
    22: [{"vectors": {"size": 2, "distance": "Dot"}},
         {"sparse_vectors": {"s": {"index": {"full_scan_threshold": 10, "on_disk": False}, "modifier": "idf"}},
          "vectors": {"m": {"size": 2, "distance": "Euclid", "multivector_config": {"comparator": "max_sim"}}}},
         {"vectors": {"a": {"size": 2, "distance": "Manhattan"}}, "hnsw_config": {"m": 0}}],
}

FILTERS = [
    {}, {"must": [F]},
    {"should": [{"key": "k", "match": {"any": ["a", "b"]}}], "must_not": [{"is_null": {"key": "z"}}]},
    {"must": [{"key": "n", "range": {"gt": 0.5, "lte": 2}}, {"key": "t", "datetime_range": {"gte": "2023-12-31T00:00:00Z"}}]},
    {"min_should": {"conditions": [F, {"key": "b", "match": {"value": True}}], "min_count": 1}},
    {"must": [{"nested": {"key": "arr", "filter": {"must": [{"key": "x", "match": {"value": 2}}]}}}]},
    {"must": [{"key": "s", "match": {"text": "world"}}, {"key": "k", "match": {"except": ["b"]}}]},
    {"must": [{"key": "g", "geo_bounding_box": {"top_left": {"lat": 60, "lon": 0}, "bottom_right": {"lat": 40, "lon": 20}}}]},
    {"must": [{"key": "g", "geo_polygon": {"exterior": {"points": [{"lat": 50, "lon": 10}, {"lat": 55, "lon": 10}, {"lat": 55, "lon": 15}, {"lat": 50, "lon": 10}]}}}]},
    {"must": [{"key": "n", "values_count": {"gte": 2}}, {"has_id": [1, 2]}, {"has_vector": ""}]},
    {"must": [{"key": "arr[].y", "match": {"value": "q"}}, {"key": "d.e.f", "range": {"gte": 7}}]},
    {"must_not": [{"must": [{"is_empty": {"key": "e"}}]}]},
]


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def wal_bodies(path):
    with open(path, "rb") as f:
        data = f.read()
    pos, bodies = 16, []
    while pos + 17 <= len(data):
        length = struct.unpack_from("<I", data, pos)[0]
        bodies.append(data[pos + 17:pos + 17 + length])
        pos += 17 + length
    return data, bodies


def main():
    for route, bodies in API.items():
        for i, body in enumerate(bodies):
            for flags in (0, 1):  # plain, named; no query string
                write(os.path.join(CORPUS, "api"), f"r{route:02d}-{i}-{flags}.bin",
                      bytes([route, flags]) + json.dumps(body).encode())
    for i, f in enumerate(FILTERS):
        write(os.path.join(CORPUS, "filter"), f"f{i:02d}.json", json.dumps(f).encode())
    if len(sys.argv) < 2:
        return
    os.environ["TESSERA_BIN"] = sys.argv[1]
    with TesseraServer() as server:
        server.request("PUT", "/collections/w", {
            "vectors": {"a": {"size": 2, "distance": "Cosine"}, "b": {"size": 3, "distance": "Euclid"},
                        "m": {"size": 2, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}}},
            "sparse_vectors": {"s": {}}})
        server.request("PUT", "/collections/w/points?wait=true", {"points": [
            {"id": 1, "vector": {"a": [1, 0]}, "payload": {"k": "x", "n": [1, 2]}},
            {"id": "6f1c2a8e-7b3d-4c5e-9f00-112233445566", "vector": {"b": [1, 2, 3]}}]})
        server.request("POST", "/collections/w/points/batch?wait=true", {"operations": [
            {"set_payload": {"payload": {"y": {"z": 1}}, "points": [1], "key": "d"}},
            {"overwrite_payload": {"payload": {"q": True}, "points": [1]}},
            {"delete_payload": {"keys": ["q"], "points": [1]}},
            {"clear_payload": {"points": [1]}},
            {"update_vectors": {"points": [{"id": 1, "vector": {"b": [3, 2, 1]}}]}},
            {"update_vectors": {"points": [{"id": 1, "vector": {"s": {"indices": [4, 2], "values": [1, 2]},
                                                                "m": [[1, 2], [3, 4]]}}]}},
            {"delete_vectors": {"points": [1], "vector": ["a"]}},
            {"delete": {"points": ["6f1c2a8e-7b3d-4c5e-9f00-112233445566"]}}]})
        logs = glob.glob(os.path.join(server.storage, "**", "wal-*.log"), recursive=True)
        data, bodies = wal_bodies(sorted(logs)[0])
    write(os.path.join(CORPUS, "wal"), "raw-log.bin", b"\x00" + data)
    write(os.path.join(CORPUS, "wal"), "framed-bodies.bin", b"\x01" + b"\xff\x00".join(bodies))
    for i, body in enumerate(bodies):
        write(os.path.join(CORPUS, "wal"), f"framed-{i}.bin", b"\x01" + body)


if __name__ == "__main__":
    main()
