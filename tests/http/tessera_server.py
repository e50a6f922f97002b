"""Starts the real tessera binary on a free port with a temp storage folder, for HTTP tests."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("TESSERA_BIN", os.path.join(os.path.dirname(__file__), "../../build/tessera"))


def _not_json(token):
    raise ValueError(f"the answer is not strict JSON: it holds {token}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TesseraServer:
    """A running server. Use as a context manager, or call start()/stop()."""

    def __init__(self, storage=None, args=(), env=None, port=None):
        self.owns_storage = storage is None
        self.storage = storage or tempfile.mkdtemp(prefix="tessera-http-")
        self.args = list(args)
        self.env = env
        self.port = port or free_port()
        self.proc = None
        self.log_path = os.path.join(tempfile.gettempdir(), f"tessera-{self.port}.log")

    def start(self, use_flags=True):
        env = dict(os.environ)
        env.update(self.env or {})
        cmd = [BIN]
        if use_flags:
            cmd += ["--port", str(self.port), "--storage-path", self.storage,
                    "--snapshots-path", os.path.join(self.storage, "snapshots")]
        cmd += self.args
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tessera exited with {self.proc.returncode}: {self.read_log()}")
            try:
                status, _, _ = self.request("GET", "/readyz")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("tessera did not become ready: " + self.read_log())

    def stop(self, sig=signal.SIGTERM):
        """Stops the server and returns its exit code."""
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        self.log.close()
        return code

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if self.owns_storage:
            shutil.rmtree(self.storage, ignore_errors=True)

    def request(self, method, path, body=None, headers=None, raw=None, binary=False):
        """Sends one request on a new connection; returns (status, parsed JSON or text, headers).
        With binary=True the body is returned as bytes, unparsed."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            data = raw if raw is not None else (json.dumps(body) if body is not None else None)
            hdrs = {"Content-Type": "application/json"} if data is not None else {}
            hdrs.update(headers or {})
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            if binary:
                return resp.status, payload, dict(resp.getheaders())
            payload = payload.decode()
            if resp.getheader("Content-Type", "").startswith("application/json"):
                payload = json.loads(payload, parse_constant=_not_json)  # strict: no NaN/Infinity
            return resp.status, payload, dict(resp.getheaders())
        finally:
            conn.close()


class ServerTestCase(unittest.TestCase):
    """One server per test class, started before its tests and stopped after them."""

    @classmethod
    def setUpClass(cls):
        cls.server = TesseraServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__()

    def req(self, *args, **kwargs):
        """(status, parsed body) of one request."""
        status, body, _ = self.server.request(*args, **kwargs)
        return status, body
