"""Spec-driven negative test (#32 item 6): wrong inputs generated from Qdrant's OpenAPI document.

For every operation of api/spec/qdrant-openapi.json (and the 1.18 routes 1.19 dropped) that takes
a JSON body or query parameters, starting from a valid body (a seed written here, checked to be
accepted on a scratch collection, or one built from the schema's required fields), it sends:
  - a value of a JSON type the schema does not allow, at every property the schema describes
    (present in the seed or added to an object the seed has), and null where it is not nullable;
  - a value below `minimum` / above `maximum`, and -1 for every unsigned integer;
  - a string outside every `enum`;
  - an unknown field in every object where Qdrant refuses one (`additionalProperties: false`),
    and in every object of a body that writes or deletes (stricter than Qdrant);
  - every declared query parameter with a wrong type, an enum miss or an out-of-range value.
Each must be a 4xx with a JSON error in Qdrant's shape, the server must keep answering, and the
state (points with payloads and vectors, collection configs, payload indexes, aliases,
collections, snapshots) must be unchanged. Prints the counts.
"""

import copy
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "http"))
from tessera_server import TesseraServer  # noqa: E402

SPEC_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "api", "spec")
C = "h"  # the collection every request targets
SCRATCH = "neg_scratch"  # where seeds are checked to be accepted

FILTER = {"must": [{"key": "a", "match": {"value": 1}}], "must_not": [{"has_id": [4]}]}
SEARCH = {"vector": [1, 0], "limit": 3, "filter": FILTER, "params": {"hnsw_ef": 16, "exact": False},
          "with_payload": ["a"], "score_threshold": 0.0}
QUERY = {"query": [1, 0], "limit": 3, "filter": FILTER, "params": {"hnsw_ef": 16}, "with_payload": True,
         "prefetch": [{"query": [0, 1], "limit": 5}]}
SEEDS = {
    ("put", "/collections/{collection_name}"): {"vectors": {"size": 2, "distance": "Dot"},
                                                "hnsw_config": {"m": 8}, "optimizers_config": {"indexing_threshold": 1000}},
    ("patch", "/collections/{collection_name}"): {"optimizers_config": {"indexing_threshold": 2000},
                                                  "params": {"on_disk_payload": True}},
    ("put", "/collections/{collection_name}/index"): {"field_name": "b", "field_schema": {"type": "integer", "range": True}},
    ("put", "/collections/{collection_name}/points"): {"points": [{"id": 1, "vector": [5, 6], "payload": {"a": 7}}]},
    ("post", "/collections/{collection_name}/points/delete"): {"points": [1]},
    ("post", "/collections/{collection_name}/points/payload"): {"payload": {"z": 1}, "points": [1]},
    ("put", "/collections/{collection_name}/points/payload"): {"payload": {"z": 1}, "points": [1]},
    ("post", "/collections/{collection_name}/points/payload/delete"): {"keys": ["a"], "points": [1]},
    ("post", "/collections/{collection_name}/points/payload/clear"): {"points": [1]},
    ("put", "/collections/{collection_name}/points/vectors"): {"points": [{"id": 1, "vector": [3, 4]}]},
    ("post", "/collections/{collection_name}/points/vectors/delete"): {"points": [1], "vector": [""]},
    ("post", "/collections/{collection_name}/points/batch"): {"operations": [
        {"delete": {"points": [1]}}, {"set_payload": {"payload": {"z": 2}, "points": [2]}}]},
    ("post", "/collections/{collection_name}/points"): {"ids": [1, 2], "with_payload": True, "with_vector": True},
    ("post", "/collections/{collection_name}/points/scroll"): {"limit": 2, "filter": FILTER, "with_payload": True},
    ("post", "/collections/{collection_name}/points/count"): {"filter": FILTER, "exact": True},
    ("post", "/collections/{collection_name}/points/query"): QUERY,
    ("post", "/collections/{collection_name}/points/query/batch"): {"searches": [QUERY]},
    ("post", "/collections/{collection_name}/points/query/groups"): {"query": [1, 0], "group_by": "a", "limit": 2,
                                                                      "group_size": 1},
    ("post", "/collections/{collection_name}/points/search"): SEARCH,
    ("post", "/collections/{collection_name}/points/search/batch"): {"searches": [SEARCH]},
    ("post", "/collections/{collection_name}/points/recommend"): {"positive": [1], "limit": 2, "filter": FILTER},
    ("post", "/collections/{collection_name}/points/recommend/batch"): {"searches": [{"positive": [1], "limit": 2}]},
    ("post", "/collections/aliases"): {"actions": [{"create_alias": {"collection_name": C, "alias_name": "al"}}]},
}
# Operations whose body writes or deletes: an unknown field anywhere in it is refused.
WRITES = {
    ("put", "/collections/{collection_name}/points"),
    ("post", "/collections/{collection_name}/points/delete"),
    ("post", "/collections/{collection_name}/points/payload"),
    ("put", "/collections/{collection_name}/points/payload"),
    ("post", "/collections/{collection_name}/points/payload/delete"),
    ("post", "/collections/{collection_name}/points/payload/clear"),
    ("put", "/collections/{collection_name}/points/vectors"),
    ("post", "/collections/{collection_name}/points/vectors/delete"),
    ("post", "/collections/{collection_name}/points/batch"),
}
# Path parameters: existing things, so that an accepted mutation would show in the state.
PATH_PARAMS = {"collection_name": C, "field_name": "a", "id": "1", "snapshot_name": "none.snapshot",
               "alias_name": "al", "shard_id": "0", "peer_id": "1", "vector_name": "v", "key": "k",
               "name": "n"}
# A create that succeeded would add a collection: the creates target a new name.
CREATES = {("put", "/collections/{collection_name}")}
UNKNOWN = "zz_unknown_field"


class Spec:
    def __init__(self, doc):
        self.doc = doc
        self.schemas = doc["components"]["schemas"]

    def resolve(self, s):
        seen = 0
        while isinstance(s, dict) and "$ref" in s and seen < 50:
            s = self.schemas[s["$ref"].split("/")[-1]]
            seen += 1
        return s

    def variants(self, s):
        """The schemas `s` may be, flattened through $ref and anyOf/oneOf (no null-only ones)."""
        s = self.resolve(s)
        branches = s.get("anyOf") or s.get("oneOf")
        if not branches:
            return [s]
        out = []
        for b in branches:
            b = self.resolve(b)
            if set(b.keys()) <= {"nullable", "description"}:
                continue
            out.extend(self.variants(b))
        return out

    def nullable(self, s):
        s = self.resolve(s)
        if s.get("nullable"):
            return True
        return any(set(self.resolve(b).keys()) <= {"nullable", "description"} or self.nullable(b)
                   for b in (s.get("anyOf") or s.get("oneOf") or []))

    def types(self, s):
        """JSON types `s` allows (None: any)."""
        out = set()
        for v in self.variants(s):
            t = v.get("type")
            if t is None:
                if "enum" in v:
                    out |= {type(e).__name__ for e in v["enum"]}
                    continue
                if "allOf" in v:
                    return None
                return None
            out.add(t)
        return out


def wrong_type_value(allowed):
    for value, t in [("zz-wrong", "string"), (True, "boolean"), (1.5, "number"), ({"zz": 1}, "object"),
                     ([{"zz": 1}], "array")]:
        if t == "number" and ("number" in allowed):
            continue
        if t not in allowed and not (t == "boolean" and "bool" in allowed) and not (t == "string" and "str" in allowed):
            return value
    return None


def mutations(spec, schema, value, path, write):
    """(description, mutate function) pairs for `value` (may be absent: None) at `path`."""
    out = []
    allowed = spec.types(schema)
    if allowed is not None:
        wrong = wrong_type_value(allowed)
        if wrong is not None:
            out.append((f"{path}: wrong type {json.dumps(wrong)}", wrong))
        if not spec.nullable(schema) and value is not None:
            out.append((f"{path}: null", None))
    for v in spec.variants(schema):
        t = v.get("type")
        if t in ("integer", "number"):
            fmt = v.get("format", "")
            if "minimum" in v:
                low = v["minimum"] - (1 if t == "integer" else 0.5)
                if not (fmt.startswith("uint") and v["minimum"] == 0):
                    out.append((f"{path}: below minimum {v['minimum']}", low))
            if fmt.startswith("uint"):
                out.append((f"{path}: negative for {fmt}", -1))
            if "maximum" in v:
                out.append((f"{path}: above maximum {v['maximum']}", v["maximum"] + 1))
        if t == "string" and "enum" in v:
            out.append((f"{path}: enum miss", "zz-not-a-variant"))
        if t == "integer" and v.get("format") == "uint8":
            out.append((f"{path}: above u8", 256))
    # An enum miss must miss every variant; a range miss must not fit another variant.
    filtered = []
    for desc, m in out:
        if "enum miss" in desc and any(v.get("type") == "string" and "enum" not in v for v in spec.variants(schema)):
            continue
        if isinstance(m, (int, float)) and not isinstance(m, bool) and ("below" in desc or "above" in desc or "negative" in desc):
            if any(fits_number(v, m) for v in spec.variants(schema)):
                continue
        filtered.append((desc, m))
    return filtered


def fits_number(v, x):
    t = v.get("type")
    if t not in ("integer", "number") or (t == "integer" and isinstance(x, float)):
        return False
    fmt = v.get("format", "")
    if fmt.startswith("uint") and x < 0:
        return False
    if fmt == "uint8" and x > 255:
        return False
    if "minimum" in v and x < v["minimum"]:
        return False
    if "maximum" in v and x > v["maximum"]:
        return False
    return True


def object_variant(spec, schema, value):
    """The object schema among `schema`'s variants that `value` (a dict) is meant as."""
    objects = [v for v in spec.variants(schema) if v.get("type") == "object" and "properties" in v]
    if not objects:
        return None
    keys = set(value.keys()) if isinstance(value, dict) else set()
    best = max(objects, key=lambda v: (len(keys & set(v["properties"])), -len(set(v.get("required", [])) - keys)))
    return best


def array_items(spec, schema):
    for v in spec.variants(schema):
        if v.get("type") == "array" and "items" in v:
            return v["items"]
    return None


def generate(spec, schema, body, write, depth=0):
    """Every mutated body of `body` against `schema`: (description, body, unknown_field)."""
    results = []

    def walk(sub_schema, value, setter, path, depth):
        if depth > 6:
            return
        if isinstance(value, dict):
            obj = object_variant(spec, sub_schema, value)
            if obj is None:
                return
            props = obj.get("properties", {})
            for key, prop_schema in props.items():
                present = key in value
                for desc, m in mutations(spec, prop_schema, value.get(key), f"{path}.{key}".lstrip("."), write):
                    def set_it(root, key=key, m=m, setter=setter):
                        target = setter(root)
                        target[key] = copy.deepcopy(m)
                    results.append((desc, set_it, False))
                if present:
                    walk(prop_schema, value[key], lambda root, key=key, setter=setter: setter(root)[key],
                         f"{path}.{key}".lstrip("."), depth + 1)
            if obj.get("additionalProperties") is False or write:
                def add_unknown(root, setter=setter):
                    setter(root)[UNKNOWN] = 1
                results.append((f"{path or 'body'}: unknown field", add_unknown, True))
        elif isinstance(value, list) and value:
            items = array_items(spec, sub_schema)
            if items is not None:
                for desc, m in mutations(spec, items, value[0], f"{path}[0]", write):
                    def set_item(root, m=m, setter=setter):
                        setter(root)[0] = copy.deepcopy(m)
                    results.append((desc, set_item, False))
                walk(items, value[0], lambda root, setter=setter: setter(root)[0], f"{path}[0]", depth + 1)

    walk(schema, body, lambda root: root, "", depth)
    out = []
    for desc, fn, unknown in results:
        mutated = copy.deepcopy(body)
        fn(mutated)
        out.append((desc, mutated))
    return out


def minimal(spec, schema, depth=0):
    """A body from the schema's required fields (first variant, first enum value)."""
    v = spec.variants(schema)[0]
    t = v.get("type")
    if "enum" in v:
        return v["enum"][0]
    if t == "object" or "properties" in v:
        if depth > 4:
            return {}
        return {k: minimal(spec, v["properties"][k], depth + 1) for k in v.get("required", []) if k in v.get("properties", {})}
    if t == "array":
        return [minimal(spec, v["items"], depth + 1)] if "items" in v and depth < 4 else []
    if t == "integer":
        return max(1, v.get("minimum", 1))
    if t == "number":
        return 0.5
    if t == "boolean":
        return True
    if t == "string":
        return "x"
    return 1


def query_mutations(spec, params):
    """(parameter, description, value) for every declared query parameter."""
    for p in params:
        if p.get("in") != "query":
            continue
        schema = spec.resolve(p.get("schema", {}))
        name = p["name"]
        types = spec.types(schema) or set()
        variants = spec.variants(schema)
        if "boolean" in types:
            yield name, f"?{name}: not a boolean", "maybe"
        if "integer" in types and "string" not in types:
            yield name, f"?{name}: not an integer", "abc"
            yield name, f"?{name}: a fraction", "1.5"
            for v in variants:
                if v.get("minimum", 0) > 0:
                    yield name, f"?{name}: below minimum", str(v["minimum"] - 1)
                elif v.get("format", "").startswith("uint"):
                    yield name, f"?{name}: negative", "-1"
        if any("enum" in v for v in variants) and not any(
                v.get("type") in ("integer", "string") and "enum" not in v for v in variants):
            yield name, f"?{name}: enum miss", "zz-not-a-variant"


def operations():
    docs = []
    for f in ["qdrant-openapi.json", "qdrant-openapi-v1.18.x.json"]:
        with open(os.path.join(SPEC_DIR, f)) as fh:
            docs.append(Spec(json.load(fh)))
    seen = set()
    for spec in docs:
        for path, item in spec.doc["paths"].items():
            for method, op in item.items():
                if not isinstance(op, dict) or (method, path) in seen:
                    continue
                seen.add((method, path))
                yield spec, method, path, op


def fill(path, overrides=None):
    params = dict(PATH_PARAMS)
    params.update(overrides or {})
    for k, v in params.items():
        path = path.replace("{" + k + "}", v)
    return path


class SpecNegativeTest(unittest.TestCase):
    def test_every_wrong_input_is_refused_and_changes_nothing(self):
        server = TesseraServer().start()
        failures = []
        counts = {"operations": 0, "operations_with_seed": 0, "body_mutations": 0, "unknown_field": 0,
                  "query_mutations": 0, "answered_404": 0, "crashes": 0, "5xx": 0, "state_changed": 0, "not_4xx": 0}
        try:
            def ok(method, path, body=None):
                status, reply, _ = server.request(method, path, body)
                assert 200 <= status < 300, (method, path, status, reply)
                return reply

            def setup(name):
                ok("PUT", f"/collections/{name}", {"vectors": {"size": 2, "distance": "Dot"}})
                ok("PUT", f"/collections/{name}/points?wait=true", {"points": [
                    {"id": i, "vector": [i, 1], "payload": {"a": i % 3, "tags": ["x"]}} for i in range(1, 6)]})
                ok("PUT", f"/collections/{name}/index?wait=true", {"field_name": "a", "field_schema": "integer"})

            setup(C)

            def state():
                parts = []
                for method, path, body in [
                        ("POST", f"/collections/{C}/points/scroll", {"limit": 100, "with_payload": True, "with_vector": True}),
                        ("GET", f"/collections/{C}", None), ("GET", "/collections", None), ("GET", "/aliases", None),
                        ("GET", f"/collections/{C}/snapshots", None)]:
                    status, reply, _ = server.request(method, path, body)
                    result = reply.get("result") if isinstance(reply, dict) else reply
                    if isinstance(result, dict):
                        result = {k: v for k, v in result.items() if k not in ("status", "optimizer_status")}
                    parts.append((status, json.dumps(result, sort_keys=True)))
                return parts

            before = state()

            def send(desc, method, path, body, raw=None):
                nonlocal before
                try:
                    status, reply, _ = server.request(method.upper(), path, body, raw=raw)
                except OSError as e:
                    counts["crashes"] += 1
                    failures.append(f"{desc}: no answer ({e})")
                    server.stop()
                    server.start()
                    return
                if status >= 500:
                    counts["5xx"] += 1
                if status == 404:  # a route this server does not have (yet), or a missing thing
                    counts["answered_404"] += 1
                good = 400 <= status < 500 and isinstance(reply, dict) and isinstance(reply.get("status"), dict) \
                    and isinstance(reply["status"].get("error"), str) and "result" not in reply
                if not good:
                    counts["not_4xx"] += 1
                    failures.append(f"{desc}: {status} {str(reply)[:160]}")
                if server.proc.poll() is not None:
                    counts["crashes"] += 1
                    server.start()
                now = state()
                if now != before:
                    counts["state_changed"] += 1
                    failures.append(f"{desc}: changed the state")
                    # Put things back so that the next mutation is judged on its own.
                    server.request("DELETE", f"/collections/{C}")
                    for name in ("neg_new", "al"):
                        server.request("DELETE", f"/collections/{name}")
                    server.request("POST", "/collections/aliases", {"actions": [{"delete_alias": {"alias_name": "al"}}]})
                    setup(C)
                    before = state()

            for spec, method, path, op in operations():
                key = (method, path)
                body_schema = (op.get("requestBody", {}).get("content", {}).get("application/json", {}) or {}).get("schema")
                params = op.get("parameters", [])
                if body_schema is None and not any(p.get("in") == "query" for p in params):
                    continue
                counts["operations"] += 1
                target = fill(path, {"collection_name": "neg_new"} if key in CREATES else None)
                seed = copy.deepcopy(SEEDS.get(key)) if key in SEEDS else None
                if seed is not None:
                    counts["operations_with_seed"] += 1
                    # The seed itself is accepted (on a scratch collection), so each mutation is
                    # what is refused.
                    server.request("DELETE", f"/collections/{SCRATCH}")
                    if key not in CREATES and "{collection_name}" in path:
                        setup(SCRATCH)
                    scratch_path = fill(path, {"collection_name": SCRATCH})
                    status, reply, _ = server.request(method.upper(), scratch_path, seed)
                    self.assertTrue(200 <= status < 300, f"seed of {method} {path}: {status} {reply}")
                    server.request("DELETE", f"/collections/{SCRATCH}")
                    server.request("POST", "/collections/aliases", {"actions": [{"delete_alias": {"alias_name": "al"}}]})
                    self.assertEqual(state(), before, f"seed of {method} {path} on the scratch collection")
                if body_schema is not None:
                    body = seed if seed is not None else minimal(spec, body_schema)
                    for desc, mutated in generate(spec, body_schema, body, key in WRITES):
                        counts["body_mutations"] += 1
                        counts["unknown_field"] += "unknown field" in desc
                        send(f"{method} {path} {desc}", method, target, mutated)
                # Query parameters, on the seed (or an empty body when there is none).
                for name, desc, value in query_mutations(spec, params):
                    counts["query_mutations"] += 1
                    sep = "&" if "?" in target else "?"
                    send(f"{method} {path} {desc}", method, f"{target}{sep}{name}={value}",
                         seed if seed is not None else (minimal(spec, body_schema) if body_schema else None))
            print("\nspec negative: " + " ".join(f"{k}={v}" for k, v in counts.items()))
        finally:
            server.stop()
        self.assertEqual(failures, [], f"{len(failures)} failures")
        self.assertGreater(counts["body_mutations"], 500)


if __name__ == "__main__":
    unittest.main()
