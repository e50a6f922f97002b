"""A full disk (a small tmpfs) under the real server: writes fail with a clear 5xx and are not
acknowledged, nothing acknowledged is lost or corrupted, and once space returns a restart
serves every acknowledged point and takes writes again. Needs root (mount); skipped otherwise."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "http"))
from tessera_server import TesseraServer  # noqa: E402

DIM = 64


def batch(start, n):
    return {"points": [{"id": i, "vector": [float((i * 7 + j) % 13) for j in range(DIM)],
                        "payload": {"i": i}} for i in range(start, start + n)]}


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


if __name__ == "__main__":
    unittest.main()
