"""Damaged files against the real server: the WAL cut at every byte of its last record and hit
by bit flips at random offsets, and segment files flipped or truncated at random offsets. Each
time the server must start, say in its log what it dropped, and keep every intact record; a
collection whose segment is damaged is out of service (503 naming the damage) while the others
serve, and it can be deleted and created again."""

import os
import random
import shutil
import signal
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "http"))
from tessera_server import TesseraServer  # noqa: E402

RECORDS = 20
SEED = int(os.environ.get("FAULT_SEED", "20261201"))


def point(i):
    return {"id": i, "vector": [float(i), 1.0, -2.0, 0.5], "payload": {"i": i, "s": "x" * (i % 5)}}


def wal_records(path):
    """(offset, length) of each record of one WAL file."""
    with open(path, "rb") as f:
        data = f.read()
    out, pos = [], 16
    while pos + 17 <= len(data):
        length = struct.unpack_from("<I", data, pos)[0]
        out.append((pos, 17 + length))
        pos += 17 + length
    return data, out


class FaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rng = random.Random(SEED)
        cls.pristine = tempfile.mkdtemp(prefix="tessera-faults-")
        with TesseraServer(storage=cls.pristine) as s:
            # No flush for an hour: every write stays in the WAL when the process is killed.
            status, body, _ = s.request("PUT", "/collections/w", {
                "vectors": {"size": 4, "distance": "Euclid"},
                "optimizers_config": {"flush_interval_sec": 3600}})
            assert status == 200, body
            for i in range(1, RECORDS + 1):
                status, body, _ = s.request("PUT", "/collections/w/points?wait=true", {"points": [point(i)]})
                assert status == 200, body
            s.stop(signal.SIGKILL)
        logs = [os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(cls.pristine, "collections", "w"))
                for f in fs if f.startswith("wal-") and f.endswith(".log")]
        assert len(logs) == 1, logs
        cls.wal_rel = os.path.relpath(logs[0], cls.pristine)
        cls.wal_bytes, cls.records = wal_records(logs[0])
        assert len(cls.records) == RECORDS, len(cls.records)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.pristine, ignore_errors=True)

    def start_damaged(self, damage):
        """A copy of the pristine storage, `damage(wal_path)` applied, served."""
        storage = tempfile.mkdtemp(prefix="tessera-faults-run-")
        shutil.rmtree(storage)
        shutil.copytree(self.pristine, storage)
        damage(os.path.join(storage, self.wal_rel))
        server = TesseraServer(storage=storage)
        server.start()  # raises if the server does not become ready
        return server, storage

    def check_prefix(self, server, kept):
        status, body, _ = server.request("POST", "/collections/w/points", {
            "ids": list(range(1, RECORDS + 1)), "with_payload": True, "with_vector": True})
        self.assertEqual(status, 200, body)
        found = {r["id"]: r for r in body["result"]}
        self.assertEqual(sorted(found), list(range(1, kept + 1)))
        for i in range(1, kept + 1):
            self.assertEqual(found[i]["payload"], point(i)["payload"])
            self.assertEqual(found[i]["vector"], point(i)["vector"])

    def run_case(self, damage, kept, reported):
        server, storage = self.start_damaged(damage)
        try:
            self.check_prefix(server, kept)
            log = server.read_log()
            if reported:
                self.assertIn(f"kept records up to {kept}", log)
                self.assertIn("dropped", log)
            # Writable again, and ids keep rising past what was dropped.
            status, body, _ = server.request("PUT", "/collections/w/points?wait=true",
                                             {"points": [point(100)]})
            self.assertEqual(status, 200, body)
        finally:
            server.stop()
            shutil.rmtree(storage, ignore_errors=True)

    def test_wal_cut_at_every_byte_of_the_last_record(self):
        start, length = self.records[-1]
        for cut in range(start, start + length):
            with self.subTest(cut=cut):
                def damage(path, cut=cut):
                    with open(path, "r+b") as f:
                        f.truncate(cut)
                self.run_case(damage, RECORDS - 1, reported=cut > start)

    def test_wal_bit_flips_at_random_offsets(self):
        for _ in range(8):
            offset = self.rng.randrange(16, len(self.wal_bytes))
            hit = next(k for k, (s, n) in enumerate(self.records) if s <= offset < s + n)
            with self.subTest(offset=offset, record=hit + 1):
                def damage(path, offset=offset):
                    with open(path, "r+b") as f:
                        f.seek(offset)
                        b = f.read(1)
                        f.seek(offset)
                        f.write(bytes([b[0] ^ (1 << self.rng.randrange(8))]))
                self.run_case(damage, hit, reported=True)


class SegmentFaultTest(unittest.TestCase):
    def test_damaged_segment_puts_only_its_collection_out_of_service(self):
        rng = random.Random(SEED)
        pristine = tempfile.mkdtemp(prefix="tessera-segfaults-")
        try:
            with TesseraServer(storage=pristine) as s:
                for name in ("s", "other"):
                    status, body, _ = s.request("PUT", f"/collections/{name}",
                                                {"vectors": {"size": 4, "distance": "Euclid"}})
                    assert status == 200, body
                    status, body, _ = s.request("PUT", f"/collections/{name}/points?wait=true",
                                                {"points": [point(i) for i in range(1, 31)]})
                    assert status == 200, body
            # A clean stop flushed both: the points live in segment files now.
            seg_dir = os.path.join(pristine, "collections", "s", "segments")
            segment = max((f for f in os.listdir(seg_dir) if f.startswith("segment-") and f.endswith(".bin")),
                          key=lambda f: os.path.getsize(os.path.join(seg_dir, f)))
            size = os.path.getsize(os.path.join(seg_dir, segment))
            cases = [("flip", rng.randrange(size)) for _ in range(4)] + \
                    [("truncate", rng.randrange(size)) for _ in range(4)]
            for kind, offset in cases:
                with self.subTest(kind=kind, offset=offset):
                    storage = tempfile.mkdtemp(prefix="tessera-segfaults-run-")
                    shutil.rmtree(storage)
                    shutil.copytree(pristine, storage)
                    path = os.path.join(storage, "collections", "s", "segments", segment)
                    with open(path, "r+b") as f:
                        if kind == "truncate":
                            f.truncate(offset)
                        else:
                            f.seek(offset)
                            b = f.read(1)
                            f.seek(offset)
                            f.write(bytes([b[0] ^ 0x01]))
                    try:
                        with TesseraServer(storage=storage) as server:
                            status, body, _ = server.request("GET", "/collections/s")
                            self.assertEqual(status, 503, body)
                            self.assertIn("out of service", body["status"]["error"])
                            self.assertIn(segment, body["status"]["error"])
                            status, body, _ = server.request("POST", "/collections/other/points/count", {})
                            self.assertEqual((status, body["result"]["count"]), (200, 30))
                            status, body, _ = server.request("GET", "/collections")
                            self.assertEqual(sorted(c["name"] for c in body["result"]["collections"]),
                                             ["other", "s"])
                            self.assertIn("out of service", server.read_log())
                            status, body, _ = server.request("DELETE", "/collections/s")
                            self.assertEqual((status, body["result"]), (200, True))
                            status, body, _ = server.request("PUT", "/collections/s",
                                                             {"vectors": {"size": 4, "distance": "Dot"}})
                            self.assertEqual(status, 200, body)
                    finally:
                        shutil.rmtree(storage, ignore_errors=True)
        finally:
            shutil.rmtree(pristine, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
