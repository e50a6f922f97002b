"""Kill -9 crash test: every acknowledged write survives a crash of the server.

Writers upsert (and sometimes delete) points with wait=true and ordering=medium and record
each acknowledged request. The server is killed with SIGKILL at a random moment, restarted
on the same storage, and every acknowledged point must be present with its exact vector and
payload, and every acknowledged delete must still be deleted. Prints
`cycles=N acknowledged=N lost=N resurrected=N` and exits non-zero if anything was lost.

Usage: crash_test.py [--cycles N] [--seed S]   (CYCLES in the environment also sets N)
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


def vector_for(pid, version):
    return [float(((pid * 31 + j * 7 + version * 13) % 97) / 8.0) for j in range(DIM)]


class Writer(threading.Thread):
    def __init__(self, port, index, state, stop, rng_seed):
        super().__init__(daemon=True)
        self.port, self.index, self.state, self.stop = port, index, state, stop
        self.rng = random.Random(rng_seed)

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self.stop.is_set():
            with self.state["lock"]:
                self.state["next_id"] += 4
                base = self.state["next_id"]
                version = self.state["version"]
                present = list(self.state["present"])
            victims = []
            try:
                if present and self.rng.random() < 0.15:
                    victims = self.rng.sample(present, min(3, len(present)))
                    body = json.dumps({"points": victims})
                    conn.request("POST", f"/collections/{COLLECTION}/points/delete?wait=true&ordering=medium",
                                 body=body, headers={"Content-Type": "application/json"})
                    resp = conn.getresponse()
                    data = json.loads(resp.read())
                    if resp.status == 200 and data["result"]["status"] == "completed":
                        with self.state["lock"]:
                            for v in victims:
                                self.state["present"].pop(v, None)
                                self.state["deleted"].add(v)
                                self.state["acknowledged"] += 1
                    continue
                ids = [base + k for k in range(4)]
                points = [{"id": i, "vector": vector_for(i, version),
                           "payload": {"id": i, "writer": self.index, "v": version}} for i in ids]
                conn.request("PUT", f"/collections/{COLLECTION}/points?wait=true&ordering=medium",
                             body=json.dumps({"points": points}),
                             headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = json.loads(resp.read())
                if resp.status == 200 and data["result"]["status"] == "completed":
                    with self.state["lock"]:
                        for p in points:
                            self.state["present"][p["id"]] = (p["vector"], p["payload"])
                            self.state["deleted"].discard(p["id"])
                        self.state["acknowledged"] += 1
            except (OSError, http.client.HTTPException, ValueError):
                # The server died mid-request: the outcome is unknown, and nothing is recorded.
                # Points of an unanswered delete may or may not exist now: stop checking them.
                with self.state["lock"]:
                    for v in victims:
                        self.state["present"].pop(v, None)
                conn.close()
                time.sleep(0.01)
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)


def verify(server, state):
    lost = resurrected = 0
    present = dict(state["present"])
    ids = list(present)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        status, body, _ = server.request("POST", f"/collections/{COLLECTION}/points",
                                         {"ids": chunk, "with_payload": True, "with_vector": True})
        assert status == 200, body
        found = {r["id"]: r for r in body["result"]}
        for pid in chunk:
            vector, payload = present[pid]
            record = found.get(pid)
            if record is None or record["payload"] != payload or record["vector"] != vector:
                lost += 1
    deleted = list(state["deleted"])
    for start in range(0, len(deleted), 500):
        chunk = deleted[start:start + 500]
        status, body, _ = server.request("POST", f"/collections/{COLLECTION}/points",
                                         {"ids": chunk, "with_payload": False})
        assert status == 200, body
        resurrected += len(body["result"])
    return lost, resurrected


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=int(os.environ.get("CYCLES", "3")))
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"crash test: seed={args.seed} cycles={args.cycles}", flush=True)
    storage = tempfile.mkdtemp(prefix="tessera-crash-")
    state = {"lock": threading.Lock(), "next_id": 0, "present": {}, "deleted": set(),
             "acknowledged": 0, "version": 0}
    total_lost = total_resurrected = 0
    server = TesseraServer(storage=storage)
    try:
        server.start()
        status, body, _ = server.request("PUT", f"/collections/{COLLECTION}",
                                         {"vectors": {"size": DIM, "distance": "Euclid"},
                                          "optimizers_config": {"indexing_threshold": 64,
                                                                "flush_interval_sec": 1}})
        assert status == 200, body
        for cycle in range(args.cycles):
            state["version"] = cycle
            stop = threading.Event()
            writers = [Writer(server.port, i, state, stop, rng.random()) for i in range(args.writers)]
            for w in writers:
                w.start()
            time.sleep(rng.uniform(0.2, 1.5))
            server.stop(signal.SIGKILL)
            stop.set()
            for w in writers:
                w.join(timeout=15)
            server.start()
            lost, resurrected = verify(server, state)
            total_lost += lost
            total_resurrected += resurrected
            print(f"cycle {cycle + 1}: acknowledged={state['acknowledged']} "
                  f"points={len(state['present'])} lost={lost} resurrected={resurrected}",
                  flush=True)
            if lost or resurrected:
                print(server.read_log()[-3000:])
                break
    finally:
        server.stop()
        shutil.rmtree(storage, ignore_errors=True)
    print(f"cycles={args.cycles} acknowledged={state['acknowledged']} lost={total_lost} "
          f"resurrected={total_resurrected}")
    return 1 if total_lost or total_resurrected or state["acknowledged"] == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
