"""Kill -9 crash test: every acknowledged write survives a crash of the server, and no atomic
request is ever half-applied.

Writers send upserts, atomic /points/batch requests (upsert + set_payload + delete in one
list) and deletes, each with a random `ordering` (weak, medium, strong) and `wait` (mostly
true). Each writer owns its ids, so its model is exact: the state after every acknowledged
request, plus at most one request in flight when the server died, whose effects may be
wholly present or wholly absent. The server is killed with SIGKILL at a random moment and
restarted on the same storage; then every id a writer ever touched is read back and compared:

  lost         an acknowledged point missing or different (acknowledged = a 200 reply)
  phantom      a point no request of the model put there
  torn         the in-flight request partly applied (atomicity broken)
  resurrected  a point an acknowledged delete removed is back

Prints `cycles=N acknowledged=N (weak=W medium=M strong=S) lost=0 phantom=0 torn=0
resurrected=0` and exits non-zero if any count is not zero.

Usage: crash_test.py [--cycles N] [--seed S] [--writers N]   (CYCLES in the env also sets N)
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "http"))
from tessera_server import TesseraServer  # noqa: E402

DIM = 8
COLLECTION = "crash"
ORDERINGS = ("weak", "medium", "strong")


def vector_for(pid, version):
    return [float(((pid * 31 + j * 7 + version * 13) % 97) / 8.0) for j in range(DIM)]


class Writer(threading.Thread):
    """One client with its own id range. `points` is the model: id -> (vector, payload) after
    every acknowledged request; `inflight` the effects of the one unanswered request, if any:
    id -> (vector, payload) or None for a delete."""

    def __init__(self, index, rng_seed):
        super().__init__(daemon=True)
        self.index = index
        self.rng = random.Random(rng_seed)
        self.points = {}
        self.deleted = set()
        self.touched = set()
        self.inflight = None
        self.error = None
        self.next_id = index * 1_000_000_000 + 1
        self.acknowledged = {o: 0 for o in ORDERINGS}

    def start_cycle(self, port, stop, version):
        threading.Thread.__init__(self, daemon=True)
        self.port, self.stop, self.version = port, stop, version

    def new_point(self):
        pid = self.next_id
        self.next_id += 1
        self.touched.add(pid)
        return pid, vector_for(pid, self.version), {"w": self.index, "v": self.version, "id": pid}

    def request(self):
        """A random request: (method, path, body, effects)."""
        kind = self.rng.random()
        owned = list(self.points)
        if owned and kind < 0.15:
            victims = self.rng.sample(owned, min(3, len(owned)))
            return "POST", "/points/delete", {"points": victims}, {v: None for v in victims}
        if kind < 0.5:
            fresh = [self.new_point() for _ in range(3)]
            effects = {pid: (vec, payload) for pid, vec, payload in fresh}
            first = fresh[0][0]
            effects[first] = (fresh[0][1], {**fresh[0][2], "tag": "batch"})
            ops = [{"upsert": {"points": [{"id": p, "vector": v, "payload": pl} for p, v, pl in fresh]}},
                   {"set_payload": {"payload": {"tag": "batch"}, "points": [first]}}]
            if owned:
                victim = self.rng.choice(owned)
                ops.append({"delete": {"points": [victim]}})
                effects[victim] = None
            return "POST", "/points/batch", {"operations": ops}, effects
        fresh = [self.new_point() for _ in range(4)]
        return ("PUT", "/points", {"points": [{"id": p, "vector": v, "payload": pl} for p, v, pl in fresh]},
                {pid: (vec, payload) for pid, vec, payload in fresh})

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self.stop.is_set():
            method, path, body, effects = self.request()
            ordering = self.rng.choice(ORDERINGS)
            wait = "true" if self.rng.random() < 0.8 else "false"
            self.inflight = effects
            try:
                conn.request(method, f"/collections/{COLLECTION}{path}?wait={wait}&ordering={ordering}",
                             body=json.dumps(body), headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = json.loads(resp.read())
            except (OSError, http.client.HTTPException, ValueError):
                return  # the server died: the request stays in flight, its outcome unknown
            self.inflight = None
            results = data.get("result")
            results = results if isinstance(results, list) else [results]  # a batch: one per op
            if resp.status == 200 and all(r["status"] in ("completed", "acknowledged") for r in results):
                self.acknowledged[ordering] += 1
                self.apply(effects)
            elif resp.status < 500:
                self.error = f"writer {self.index}: {resp.status} {data}"
                return
            # A 5xx (storage latched) changed nothing: the model stays as it is.

    def apply(self, effects):
        for pid, value in effects.items():
            if value is None:
                self.points.pop(pid, None)
                self.deleted.add(pid)
            else:
                self.points[pid] = value
                self.deleted.discard(pid)


def read_back(server, ids):
    found = {}
    ids = sorted(ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        status, body, _ = server.request("POST", f"/collections/{COLLECTION}/points",
                                         {"ids": chunk, "with_payload": True, "with_vector": True})
        assert status == 200, body
        for r in body["result"]:
            found[r["id"]] = (r["vector"], r["payload"])
    return found


def verify(server, writer):
    """Counts for one writer, then folds the in-flight request's outcome into its model."""
    seen = read_back(server, writer.touched)
    counts = {"lost": 0, "phantom": 0, "torn": 0, "resurrected": 0}
    inflight = writer.inflight or {}
    for pid in writer.touched:
        if pid in inflight:
            continue
        expected = writer.points.get(pid)
        got = seen.get(pid)
        if expected is not None and got != expected:
            counts["lost"] += 1
        elif expected is None and got is not None:
            counts["resurrected" if pid in writer.deleted else "phantom"] += 1
    if inflight:
        before = {pid: writer.points.get(pid) for pid in inflight}
        observed = {pid: seen.get(pid) for pid in inflight}
        if observed == inflight:
            writer.apply(inflight)
        elif observed != before:
            counts["torn"] += 1
            for pid in inflight:  # which ids explain it
                if observed[pid] != before[pid] and observed[pid] != inflight[pid]:
                    counts["phantom"] += 1
        writer.inflight = None
    return counts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=int(os.environ.get("CYCLES", "3")))
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"crash test: seed={args.seed} cycles={args.cycles}", flush=True)
    storage = tempfile.mkdtemp(prefix="tessera-crash-")
    writers = [Writer(i + 1, rng.random()) for i in range(args.writers)]
    totals = {"lost": 0, "phantom": 0, "torn": 0, "resurrected": 0}
    server = TesseraServer(storage=storage)
    try:
        server.start()
        status, body, _ = server.request("PUT", f"/collections/{COLLECTION}",
                                         {"vectors": {"size": DIM, "distance": "Euclid"},
                                          "optimizers_config": {"indexing_threshold": 64,
                                                                "flush_interval_sec": 1}})
        assert status == 200, body
        for cycle in range(args.cycles):
            stop = threading.Event()
            for w in writers:
                w.start_cycle(server.port, stop, cycle)
                w.start()
            time.sleep(rng.uniform(0.2, 1.5))
            server.stop(signal.SIGKILL)
            stop.set()
            for w in writers:
                w.join(timeout=15)
                assert w.error is None, w.error
            server.start()
            cycle_counts = {k: 0 for k in totals}
            for w in writers:
                for k, v in verify(server, w).items():
                    cycle_counts[k] += v
            for k in totals:
                totals[k] += cycle_counts[k]
            acked = sum(sum(w.acknowledged.values()) for w in writers)
            print(f"cycle {cycle + 1}: acknowledged={acked} points={sum(len(w.points) for w in writers)} "
                  + " ".join(f"{k}={v}" for k, v in cycle_counts.items()), flush=True)
            if any(cycle_counts.values()):
                print(server.read_log()[-3000:])
                break
    finally:
        server.stop()
        shutil.rmtree(storage, ignore_errors=True)
    by_ordering = {o: sum(w.acknowledged[o] for w in writers) for o in ORDERINGS}
    acked = sum(by_ordering.values())
    print(f"cycles={args.cycles} acknowledged={acked} ("
          + " ".join(f"{o}={n}" for o, n in by_ordering.items()) + ") "
          + " ".join(f"{k}={v}" for k, v in totals.items()))
    return 1 if any(totals.values()) or min(by_ordering.values()) == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
