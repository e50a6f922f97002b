"""Soak: concurrent upserts, overwrites, deletes, payload updates and searches on loopback for a
bounded time, then the final state checked against a model of what was acknowledged.

Each writer owns its ids and keeps an exact model (every request waits, so an acknowledged write
is applied); searchers query all the while. At the end every id a writer touched is read back.
Reports `requests=N errors=N p99_ms=X rss_start_mb=A rss_end_mb=B points=P mismatches=M`; exits
non-zero on any error or mismatch. Memory: the server's resident size after warm-up and at the
end, next to the live point count (growth should follow the data, not the request count).

Usage: soak.py [--seconds S] [--writers N] [--searchers N]   (SOAK_SECONDS also sets S)
"""

import argparse
import http.client
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "http"))
from tessera_server import TesseraServer  # noqa: E402

DIM = 32
COLLECTION = "soak"


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Client(threading.Thread):
    def __init__(self, port, stop, seed):
        super().__init__(daemon=True)
        self.port, self.stop, self.rng = port, stop, random.Random(seed)
        self.latencies, self.errors, self.requests = [], [], 0

    def send(self, method, path, body):
        t = time.monotonic()
        try:
            self.conn.request(method, f"/collections/{COLLECTION}{path}", body=json.dumps(body),
                              headers={"Content-Type": "application/json"})
            resp = self.conn.getresponse()
            data = json.loads(resp.read())
        except (OSError, http.client.HTTPException, ValueError) as e:
            self.errors.append(f"{method} {path}: {e}")
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return None
        self.latencies.append(time.monotonic() - t)
        self.requests += 1
        if resp.status != 200:
            self.errors.append(f"{method} {path}: {resp.status} {data}")
            return None
        return data["result"]

    def run(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            self.step()


class Writer(Client):
    def __init__(self, index, port, stop, seed):
        super().__init__(port, stop, seed)
        self.index, self.points, self.touched, self.next = index, {}, set(), index * 10**9

    def vector(self):
        return [round(self.rng.uniform(-1, 1), 3) for _ in range(DIM)]

    def step(self):
        r, owned = self.rng.random(), list(self.points)
        q = "?wait=true&ordering=" + self.rng.choice(["weak", "medium", "strong"])
        if r < 0.4 or not owned:
            ids = [self.next + k for k in range(self.rng.randint(1, 20))]
            self.next += len(ids)
            pts = [{"id": i, "vector": self.vector(), "payload": {"w": self.index, "n": 0}} for i in ids]
            if self.send("PUT", "/points" + q, {"points": pts}) is not None:
                for p in pts:
                    self.points[p["id"]] = (p["vector"], p["payload"])
                    self.touched.add(p["id"])
        elif r < 0.6:  # overwrite existing points
            pts = [{"id": i, "vector": self.vector(), "payload": {"w": self.index, "n": self.points[i][1]["n"] + 1}}
                   for i in self.rng.sample(owned, min(5, len(owned)))]
            if self.send("PUT", "/points" + q, {"points": pts}) is not None:
                for p in pts:
                    self.points[p["id"]] = (p["vector"], p["payload"])
        elif r < 0.75:
            victims = self.rng.sample(owned, min(3, len(owned)))
            if self.send("POST", "/points/delete" + q, {"points": victims}) is not None:
                for v in victims:
                    self.points.pop(v)
        else:
            ids = self.rng.sample(owned, min(4, len(owned)))
            tag = self.rng.randint(0, 9)
            if self.send("POST", "/points/payload" + q, {"payload": {"tag": tag}, "points": ids}) is not None:
                for i in ids:
                    vec, payload = self.points[i]
                    self.points[i] = (vec, {**payload, "tag": tag})


class Searcher(Client):
    def step(self):
        body = {"query": [self.rng.uniform(-1, 1) for _ in range(DIM)], "limit": 10,
                "with_payload": True}
        if self.rng.random() < 0.3:
            body["filter"] = {"must": [{"key": "tag", "match": {"value": self.rng.randint(0, 9)}}]}
        self.send("POST", "/points/query", body)


def verify(server, writer):
    mismatches = 0
    ids = sorted(writer.touched)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        status, body, _ = server.request("POST", f"/collections/{COLLECTION}/points",
                                         {"ids": chunk, "with_payload": True, "with_vector": True})
        assert status == 200, body
        got = {r["id"]: (r["vector"], r["payload"]) for r in body["result"]}
        for pid in chunk:
            expected = writer.points.get(pid)
            if got.get(pid) != expected:
                mismatches += 1
    return mismatches


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", "600")))
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--searchers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    print(f"soak: seed={args.seed} seconds={args.seconds:g} writers={args.writers} "
          f"searchers={args.searchers}", flush=True)
    rng = random.Random(args.seed)
    with TesseraServer() as server:
        status, body, _ = server.request("PUT", f"/collections/{COLLECTION}", {
            "vectors": {"size": DIM, "distance": "Dot"},  # stored as sent
            "optimizers_config": {"indexing_threshold": 500, "flush_interval_sec": 2}})
        assert status == 200, body
        status, body, _ = server.request("PUT", f"/collections/{COLLECTION}/index",
                                         {"field_name": "tag", "field_schema": "integer"})
        assert status == 200, body
        stop = threading.Event()
        writers = [Writer(i + 1, server.port, stop, rng.random()) for i in range(args.writers)]
        clients = writers + [Searcher(server.port, stop, rng.random()) for _ in range(args.searchers)]
        for c in clients:
            c.start()
        warmup = min(10.0, args.seconds / 5)
        time.sleep(warmup)
        rss_start = rss_mb(server.proc.pid)
        points_start = sum(len(w.points) for w in writers)
        deadline = time.monotonic() + args.seconds - warmup
        while time.monotonic() < deadline:
            time.sleep(min(30.0, max(0.0, deadline - time.monotonic())))
            requests = sum(c.requests for c in clients)
            print(f"soak: {requests} requests, {sum(len(c.errors) for c in clients)} errors, "
                  f"{sum(len(w.points) for w in writers)} points, rss {rss_mb(server.proc.pid):.1f} MB",
                  flush=True)
        stop.set()
        for c in clients:
            c.join(timeout=60)
        rss_end = rss_mb(server.proc.pid)
        mismatches = sum(verify(server, w) for w in writers)
        errors = [e for c in clients for e in c.errors]
        latencies = sorted(t for c in clients for t in c.latencies)
        p99 = latencies[int(0.99 * (len(latencies) - 1))] * 1000 if latencies else 0.0
        points = sum(len(w.points) for w in writers)
        for e in errors[:10]:
            print("error:", e)
        print(f"requests={len(latencies) + len(errors)} errors={len(errors)} p99_ms={p99:.1f} "
              f"rss_start_mb={rss_start:.1f} rss_end_mb={rss_end:.1f} points_start={points_start} "
              f"points={points} mismatches={mismatches}")
    return 1 if errors or mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
