"""A full disk (a small tmpfs) under the real server: writes fail with a clear 5xx and are not
acknowledged, nothing acknowledged is lost or corrupted, and once space returns (after a kill,
or while the server runs) a restart serves every acknowledged point. Needs root (mount);
skipped otherwise."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "http"))
from tessera_server import TesseraServer  # noqa: E402

DIM = 64


def batch(start, n):
    return {"points": [{"id": i, "vector": [float((i * 7 + j) % 13) for j in range(DIM)],
                        "payload": {"i": i}} for i in range(start, start + n)]}


def manifest_persisted_seq(path):
    """The persisted operation a manifest names (manifest.bin: magic, version, varint...)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return 0
    value, shift = 0, 0
    for b in data[8:]:
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value
        shift += 7
    return 0


def mount_tmpfs(path, size):
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path],
                          capture_output=True).returncode == 0


@unittest.skipUnless(os.geteuid() == 0, "needs root to mount a small tmpfs")
class FullDiskTest(unittest.TestCase):
    def setUp(self):
        self.mnt = tempfile.mkdtemp(prefix="tessera-fulldisk-")
        if not mount_tmpfs(self.mnt, "6m"):
            os.rmdir(self.mnt)
            self.skipTest("mount -t tmpfs is not permitted here")

    def tearDown(self):
        subprocess.run(["umount", "-l", self.mnt])
        shutil.rmtree(self.mnt, ignore_errors=True)

    def test_full_disk_fails_writes_cleanly_and_recovers_when_space_returns(self):
        storage = os.path.join(self.mnt, "storage")
        server = TesseraServer(storage=storage)
        server.start()
        acknowledged, failure = [], None
        try:
            status, body, _ = server.request("PUT", "/collections/d", {
                "vectors": {"size": DIM, "distance": "Dot"},
                "optimizers_config": {"flush_interval_sec": 1}})
            self.assertEqual(status, 200, body)
            for k in range(400):  # 6 MiB holds far fewer than 400 x 100 points of 64 floats
                status, body, _ = server.request(
                    "PUT", "/collections/d/points?wait=true&ordering=medium", batch(k * 100, 100))
                if status != 200:
                    failure = (status, body)
                    break
                acknowledged.append(k)
            self.assertIsNotNone(failure, "the disk never filled up")
            status, body = failure
            self.assertGreaterEqual(status, 500, body)
            self.assertIn("error", body["status"])
            # Later writes are refused too (the collection is latched read-only), reads serve.
            status, body, _ = server.request("PUT", "/collections/d/points?wait=true", batch(10**6, 1))
            self.assertGreaterEqual(status, 500, body)
            status, body, _ = server.request("POST", "/collections/d/points/count", {})
            self.assertEqual(status, 200, body)
            self.assertGreaterEqual(body["result"]["count"], 100 * len(acknowledged))
        finally:
            server.stop(signal.SIGKILL)

        # Space returns; a restart serves every acknowledged point, unchanged, and writes work.
        subprocess.run(["mount", "-o", "remount,size=256m", self.mnt], check=True)
        with TesseraServer(storage=storage) as server:
            ids = [k * 100 + j for k in acknowledged for j in range(100)]
            for start in range(0, len(ids), 1000):
                chunk = ids[start:start + 1000]
                status, body, _ = server.request("POST", "/collections/d/points",
                                                 {"ids": chunk, "with_payload": True, "with_vector": True})
                self.assertEqual(status, 200, body)
                got = {r["id"]: r for r in body["result"]}
                self.assertEqual(sorted(got), chunk)
                for r in body["result"]:
                    self.assertEqual(r["payload"], {"i": r["id"]})
            status, body, _ = server.request("PUT", "/collections/d/points?wait=true", batch(10**6, 10))
            self.assertEqual(status, 200, body)


    def test_space_returning_while_the_server_runs_keeps_every_acknowledged_write(self):
        # The disk is nearly full, so a periodic flush fails writing a segment file while the
        # (smaller) WAL appends still fit; then space comes back with the server running. The
        # next flush must write that segment again before its manifest lets the WAL go.
        subprocess.run(["mount", "-o", "remount,size=32m", self.mnt], check=True)
        storage = os.path.join(self.mnt, "storage")
        manifest = os.path.join(storage, "collections", "d", "segments", "manifest.bin")
        filler = os.path.join(self.mnt, "filler")
        server = TesseraServer(storage=storage)
        server.start()
        acknowledged, last_op = [], 0
        flush_failures = lambda: server.read_log().count("flush failed")

        def wait_persisted(op):
            deadline = time.monotonic() + 30
            while manifest_persisted_seq(manifest) < op and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertGreaterEqual(manifest_persisted_seq(manifest), op, server.read_log()[-3000:])

        try:
            status, body, _ = server.request("PUT", "/collections/d", {
                "vectors": {"size": DIM, "distance": "Dot"},
                "optimizers_config": {"flush_interval_sec": 1},
                "wal_config": {"wal_capacity_mb": 1}})  # WAL files small enough to truncate
            self.assertEqual(status, 200, body)
            for k in range(400):
                if k == 5:  # a first flush succeeds; then the disk is left with 4 MiB
                    wait_persisted(last_op)
                    st = os.statvfs(self.mnt)
                    with open(filler, "wb") as f:
                        f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - (4 << 20)))
                status, body, _ = server.request(
                    "PUT", "/collections/d/points?wait=true&ordering=medium", batch(k * 100, 100))
                if status != 200:
                    break
                acknowledged.append(k)
                last_op = body["result"]["operation_id"]
                if flush_failures() > 0:
                    break
                time.sleep(0.05)  # a steady client: flushes come between the writes
            self.assertGreater(flush_failures(), 0, "no flush failed: the disk never filled up")
            deadline = time.monotonic() + 10
            while flush_failures() < 3 and time.monotonic() < deadline:
                time.sleep(0.05)  # the flusher retries while the disk is still full

            os.remove(filler)  # space returns while the server runs
            wait_persisted(last_op)
        finally:
            server.stop(signal.SIGKILL)

        with TesseraServer(storage=storage) as server:
            ids = [k * 100 + j for k in acknowledged for j in range(100)]
            for start in range(0, len(ids), 1000):
                chunk = ids[start:start + 1000]
                status, body, _ = server.request("POST", "/collections/d/points",
                                                 {"ids": chunk, "with_payload": True})
                self.assertEqual(status, 200, body)
                self.assertEqual(sorted(r["id"] for r in body["result"]), chunk,
                                 "acknowledged points were lost")

if __name__ == "__main__":
    unittest.main()
