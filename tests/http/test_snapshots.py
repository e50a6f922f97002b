"""HTTP tests of collection snapshots: create, list, download, delete, recover (file://) and
upload (multipart), with Qdrant's .checksum files; a snapshot taken during writes is consistent."""

import hashlib
import io
import os
import tarfile
import threading
import unittest
import uuid

from tessera_server import ServerTestCase
from test_collections import assert_ok


def make_collection(test, name, n, dim=4):
    assert_ok(test, *test.req("PUT", f"/collections/{name}", {"vectors": {"size": dim, "distance": "Cosine"}}))
    points = [{"id": i, "vector": [float(i + 1), 0.5, -1.0 * i, 2.0], "payload": {"i": i, "tag": f"t{i % 3}"}}
              for i in range(n)]
    if points:
        assert_ok(test, *test.req("PUT", f"/collections/{name}/points?wait=true", {"points": points}))


def all_points(test, name):
    result = assert_ok(test, *test.req("POST", f"/collections/{name}/points/scroll",
                                       {"limit": 100000, "with_payload": True, "with_vector": True}))
    return {p["id"]: (p["vector"], p["payload"]) for p in result["points"]}


def multipart(field, filename, data):
    boundary = "----tessera" + uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


class SnapshotTest(ServerTestCase):
    def snapshot(self, name):
        return assert_ok(self, *self.req("POST", f"/collections/{name}/snapshots?wait=true"))

    def download(self, name, snapshot):
        status, data, headers = self.server.request("GET", f"/collections/{name}/snapshots/{snapshot}", binary=True)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/octet-stream")
        return data

    def test_create_list_download_delete(self):
        make_collection(self, "snap_a", 50)
        desc = self.snapshot("snap_a")
        self.assertTrue(desc["name"].startswith("snap_a-") and desc["name"].endswith(".snapshot"), desc)
        self.assertRegex(desc["creation_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
        data = self.download("snap_a", desc["name"])
        self.assertEqual(len(data), desc["size"])
        self.assertEqual(hashlib.sha256(data).hexdigest(), desc["checksum"])
        # Qdrant's layout: <snapshots>/<collection>/<name> and <name>.checksum.
        folder = os.path.join(self.server.storage, "snapshots", "snap_a")
        with open(os.path.join(folder, desc["name"] + ".checksum")) as f:
            self.assertEqual(f.read().strip(), desc["checksum"])

        listed = assert_ok(self, *self.req("GET", "/collections/snap_a/snapshots"))
        self.assertEqual([d["name"] for d in listed], [desc["name"]])
        self.assertEqual(listed[0]["size"], desc["size"])

        self.assertEqual(assert_ok(self, *self.req("DELETE", f"/collections/snap_a/snapshots/{desc['name']}")), True)
        self.assertEqual(assert_ok(self, *self.req("GET", "/collections/snap_a/snapshots")), [])
        self.assertFalse(os.path.exists(os.path.join(folder, desc["name"] + ".checksum")))
        status, body = self.req("DELETE", f"/collections/snap_a/snapshots/{desc['name']}")
        self.assertEqual(status, 404, body)
        status, body, _ = self.server.request("GET", "/collections/snap_a/snapshots/nope.snapshot")
        self.assertEqual(status, 404)
        self.assertIn("nope.snapshot", body["status"]["error"])
        status, body = self.req("POST", "/collections/no_such/snapshots")
        self.assertEqual(status, 404, body)
        # Names that try to leave the folder.
        for bad in ("..%2F..%2Fstorage", "%2E%2E", ".hidden"):
            status, _, _ = self.server.request("GET", f"/collections/snap_a/snapshots/{bad}", binary=True)
            self.assertEqual(status, 404, bad)

    def test_recover_from_file_into_new_collection(self):
        make_collection(self, "snap_src", 120)
        desc = self.snapshot("snap_src")
        path = os.path.join(self.server.storage, "snapshots", "snap_src", desc["name"])
        self.assertEqual(assert_ok(self, *self.req("PUT", "/collections/snap_copy/snapshots/recover",
                                                   {"location": "file://" + path, "checksum": desc["checksum"]})), True)
        self.assertEqual(all_points(self, "snap_copy"), all_points(self, "snap_src"))
        info = assert_ok(self, *self.req("GET", "/collections/snap_copy"))
        self.assertEqual(info["points_count"], 120)
        self.assertEqual(info["config"]["params"]["vectors"]["size"], 4)
        # The copy is a collection of its own: writes to it leave the source alone.
        assert_ok(self, *self.req("POST", "/collections/snap_copy/points/delete?wait=true", {"points": [0, 1]}))
        self.assertEqual(assert_ok(self, *self.req("POST", "/collections/snap_src/points/count", {}))["count"], 120)
        self.assertEqual(assert_ok(self, *self.req("POST", "/collections/snap_copy/points/count", {}))["count"], 118)

    def test_a_snapshot_keeps_sparse_vectors_and_multivectors(self):
        assert_ok(self, *self.req("PUT", "/collections/snap_kinds", {
            "vectors": {"d": {"size": 2, "distance": "Dot"},
                        "m": {"size": 2, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}}},
            "sparse_vectors": {"s": {"modifier": "idf"}},
            "optimizers_config": {"indexing_threshold": 1}}))
        points = [{"id": i, "vector": {"d": [i, 1], "s": {"indices": [i % 7, 100 + i], "values": [1, 0.5]},
                                       "m": [[i, 1], [1, -i]]}} for i in range(300)]
        assert_ok(self, *self.req("PUT", "/collections/snap_kinds/points?wait=true", {"points": points}))
        desc = self.snapshot("snap_kinds")
        path = os.path.join(self.server.storage, "snapshots", "snap_kinds", desc["name"])
        assert_ok(self, *self.req("PUT", "/collections/snap_kinds2/snapshots/recover", {"location": "file://" + path}))
        self.assertEqual(all_points(self, "snap_kinds2"), all_points(self, "snap_kinds"))
        info = assert_ok(self, *self.req("GET", "/collections/snap_kinds2"))
        self.assertEqual(info["config"]["params"]["sparse_vectors"], {"s": {"modifier": "idf"}})
        self.assertEqual(info["config"]["params"]["vectors"]["m"]["multivector_config"], {"comparator": "max_sim"})
        for using, query in (("s", {"indices": [3], "values": [1]}), ("m", [[1, 0]])):
            got = [assert_ok(self, *self.req("POST", f"/collections/{c}/points/query",
                                             {"query": query, "using": using, "limit": 5}))["points"]
                   for c in ("snap_kinds", "snap_kinds2")]
            self.assertEqual(got[0], got[1])
            self.assertEqual(len(got[0]), 5)

    def test_recover_replaces_existing_collection_and_keeps_aliases(self):
        make_collection(self, "snap_r", 10)
        desc = self.snapshot("snap_r")
        path = os.path.join(self.server.storage, "snapshots", "snap_r", desc["name"])
        assert_ok(self, *self.req("POST", "/collections/aliases",
                                  {"actions": [{"create_alias": {"collection_name": "snap_r", "alias_name": "snap_r_alias"}}]}))
        assert_ok(self, *self.req("PUT", "/collections/snap_r/points?wait=true",
                                  {"points": [{"id": 999, "vector": [1.0, 1.0, 1.0, 1.0]}]}))
        self.assertEqual(assert_ok(self, *self.req("POST", "/collections/snap_r/points/count", {}))["count"], 11)
        assert_ok(self, *self.req("PUT", "/collections/snap_r/snapshots/recover", {"location": "file://" + path}))
        self.assertEqual(assert_ok(self, *self.req("POST", "/collections/snap_r_alias/points/count", {}))["count"], 10)
        status, _ = self.req("GET", "/collections/snap_r/points/999")
        self.assertEqual(status, 404)

    def test_bad_recover_requests_change_nothing(self):
        make_collection(self, "snap_bad", 7)
        before = all_points(self, "snap_bad")
        desc = self.snapshot("snap_bad")
        path = os.path.join(self.server.storage, "snapshots", "snap_bad", desc["name"])
        outside = os.path.join(self.server.storage, "outside.snapshot")
        with open(path, "rb") as f, open(outside, "wb") as g:
            g.write(f.read())
        cases = [
            ({"location": "file://" + path, "checksum": "0" * 64}, 400, "checksum mismatch"),
            ({"location": "file://" + outside}, 400, "not inside the snapshots folder"),
            ({"location": "file://" + path + "/../../../../etc/passwd"}, 400, "not inside"),
            ({"location": "http://example.com/x.snapshot"}, 400, "upload"),
            ({"location": "ftp://x"}, 400, "file://"),
            ({"location": "file://" + path + ".missing"}, 404, "does not exist"),
            ({"location": 5}, 400, "location"),
            ({}, 400, "location"),
            ({"location": "file://" + path, "priority": "sometimes"}, 400, "priority"),
        ]
        for body, code, words in cases:
            status, reply = self.req("PUT", "/collections/snap_bad/snapshots/recover", body)
            self.assertEqual(status, code, (body, reply))
            self.assertIn(words, reply["status"]["error"], body)
        # Not an archive, and an archive that is not a Tessera collection.
        garbage = os.path.join(self.server.storage, "snapshots", "snap_bad", "garbage.snapshot")
        with open(garbage, "wb") as f:
            f.write(b"this is not a tar archive" * 100)
        status, reply = self.req("PUT", "/collections/snap_bad/snapshots/recover", {"location": "file://" + garbage})
        self.assertEqual(status, 400, reply)
        self.assertEqual(all_points(self, "snap_bad"), before)
        # Uploads: not multipart, no part, garbage, wrong checksum.
        status, reply = self.req("POST", "/collections/snap_bad/snapshots/upload", {"x": 1})
        self.assertEqual(status, 400, reply)
        body, headers = multipart("snapshot", "x.snapshot", b"garbage" * 1000)
        status, reply, _ = self.server.request("POST", "/collections/snap_bad/snapshots/upload", raw=body, headers=headers)
        self.assertEqual(status, 400, reply)
        with open(path, "rb") as f:
            good = f.read()
        body, headers = multipart("snapshot", "x.snapshot", good)
        status, reply, _ = self.server.request("POST", "/collections/snap_bad/snapshots/upload?checksum=" + "ab" * 32,
                                               raw=body, headers=headers)
        self.assertEqual(status, 400, reply)
        self.assertIn("checksum mismatch", reply["status"]["error"])
        self.assertEqual(all_points(self, "snap_bad"), before)
        # Hostile archives: a path leaving the folder, a symlink, an absolute name.
        for member in ("../../escaped.txt", "link", "/tmp/absolute.txt", "segments/a/b/c/deep"):
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
                info = tarfile.TarInfo("config.bin")
                info.size = 3
                tar.addfile(info, io.BytesIO(b"abc"))
                info = tarfile.TarInfo(member)
                if member == "link":
                    info.type = tarfile.SYMTYPE
                    info.linkname = "/etc/passwd"
                    tar.addfile(info)
                else:
                    info.size = 4
                    tar.addfile(info, io.BytesIO(b"evil"))
            body, headers = multipart("snapshot", "evil.snapshot", buf.getvalue())
            status, reply, _ = self.server.request("POST", "/collections/snap_bad/snapshots/upload", raw=body, headers=headers)
            self.assertEqual(status, 400, (member, reply))
            self.assertIn("snapshot archive entry", reply["status"]["error"])
        self.assertFalse(os.path.exists(os.path.join(self.server.storage, "escaped.txt")))
        self.assertEqual(all_points(self, "snap_bad"), before)
        self.assertFalse(os.path.exists(os.path.join(self.server.storage, "collections", ".snap_bad.restoring")))

    def test_a_good_snapshot_with_extra_entries_is_refused_without_server_paths(self):
        make_collection(self, "snap_extra", 5)
        before = all_points(self, "snap_extra")
        good = self.download("snap_extra", self.snapshot("snap_extra")["name"])
        cases = [
            [("xx", b"1"), ("xx/yy", b"2")],       # a file, then a file under it
            [("a" * 300, b"z")],                   # a name too long for the file system
            [("zz", b"1")],                        # a stray file at the top
            [("segments/" + "b" * 200 + ".bin", b"1")],
            [("segments/notes.txt", b"1")],
        ]
        for extra in cases:
            with tarfile.open(fileobj=io.BytesIO(good), mode="r") as src:
                members = [(m, src.extractfile(m).read()) for m in src.getmembers()]
            out = io.BytesIO()
            with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for m, data in members:
                    tar.addfile(m, io.BytesIO(data))
                for name, data in extra:
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
            body, headers = multipart("snapshot", "extra.snapshot", out.getvalue())
            status, reply, _ = self.server.request("POST", "/collections/snap_extra/snapshots/upload",
                                                   raw=body, headers=headers)
            self.assertEqual(status, 400, (extra[0][0][:20], reply))
            error = reply["status"]["error"]
            self.assertIn("is not part of a collection snapshot", error)
            self.assertNotIn(self.server.storage, error)
            self.assertNotIn(os.path.realpath(self.server.storage), error)
            self.assertEqual(all_points(self, "snap_extra"), before)
        # And the untouched snapshot still restores.
        body, headers = multipart("snapshot", "good.snapshot", good)
        assert_ok(self, *self.req("POST", "/collections/snap_extra2/snapshots/upload", raw=body, headers=headers))
        self.assertEqual(all_points(self, "snap_extra2"), before)

    def test_snapshot_during_writes_restores_a_consistent_state(self):
        make_collection(self, "snap_live", 0)
        stop = threading.Event()
        written = []
        errors = []

        def writer():
            i = 0
            while not stop.is_set() and i < 5000:
                batch = [{"id": i + k, "vector": [float(i + k + 1), 1.0, 2.0, 3.0], "payload": {"n": i + k}}
                         for k in range(10)]
                status, body = self.server.request("PUT", "/collections/snap_live/points?wait=true", {"points": batch})[:2]
                if status != 200:
                    errors.append(body)
                    return
                written.append(i + 9)
                i += 10

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            while len(written) < 20:
                pass
            desc = self.snapshot("snap_live")
        finally:
            stop.set()
            thread.join()
        self.assertEqual(errors, [])
        data = self.download("snap_live", desc["name"])
        body, headers = multipart("snapshot", desc["name"], data)
        status, reply, _ = self.server.request("POST", "/collections/snap_live_copy/snapshots/upload?wait=true&checksum="
                                               + desc["checksum"], raw=body, headers=headers)
        self.assertEqual(status, 200, reply)
        copy = all_points(self, "snap_live_copy")
        source = all_points(self, "snap_live")
        # One applied operation: whole batches, in order, a prefix of what was written.
        ids = sorted(copy)
        self.assertGreaterEqual(len(ids), 200)
        self.assertEqual(ids, list(range(len(ids))))
        self.assertEqual(len(ids) % 10, 0)
        self.assertLess(len(ids), len(source) + 1)
        for pid in ids:
            self.assertEqual(copy[pid], source[pid])

    def test_recovered_collection_survives_restart(self):
        make_collection(self, "snap_p", 30)
        desc = self.snapshot("snap_p")
        path = os.path.join(self.server.storage, "snapshots", "snap_p", desc["name"])
        assert_ok(self, *self.req("PUT", "/collections/snap_p2/snapshots/recover", {"location": "file://" + path}))
        assert_ok(self, *self.req("PUT", "/collections/snap_p2/points?wait=true",
                                  {"points": [{"id": 500, "vector": [0.0, 1.0, 0.0, 1.0]}]}))
        expected = all_points(self, "snap_p2")
        self.server.stop()
        self.server.start()
        self.assertEqual(all_points(self, "snap_p2"), expected)
        self.assertEqual(len(expected), 31)


if __name__ == "__main__":
    unittest.main()
