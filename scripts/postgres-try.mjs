#!/usr/bin/env node
/**
 * `pnpm postgres:try`: a PostgreSQL server on this machine for trying the PostgreSQL store —
 * Debian's binaries (apt-get install postgresql), a throwaway cluster on a free local port with a
 * database `sfm`, and `sfm serve` on it. Ctrl-C stops both and removes the cluster.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { startLocalCluster } = await import(join(root, 'packages/store-postgres/dist/local-cluster.js'));
let cluster;
try {
  cluster = await startLocalCluster();
} catch (e) {
  console.error(`postgres:try: ${e.message}`);
  process.exit(1);
}
const url = await cluster.createDatabase('sfm');
console.error(`PostgreSQL is running: ${url}\n(another relay: SFM_STORE=${url} pnpm sfm serve --listen 127.0.0.1:8201)\n`);
const serve = spawn(process.execPath, [join(root, 'packages/app/dist/main.js'), 'serve', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, SFM_STORE: url },
});
const stop = (signal) => serve.kill(signal);
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
serve.on('exit', (code, signal) => {
  cluster.stop();
  process.exit(code ?? (signal ? 1 : 0));
});
