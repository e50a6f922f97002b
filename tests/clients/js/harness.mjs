// Starts the real tessera binary on a free port with a temp storage folder, for client tests.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.TESSERA_BIN ?? join(here, '../../../build/tessera');

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export async function startTessera(extraArgs = []) {
  const port = await freePort();
  const storage = mkdtempSync(join(tmpdir(), 'tessera-js-'));
  const proc = spawn(BIN, ['--port', String(port), '--storage-path', storage, ...extraArgs], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`tessera exited with ${proc.exitCode}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('tessera did not become ready');
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url,
    async stop() {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
      rmSync(storage, { recursive: true, force: true });
    },
  };
}
