/**
 * `pnpm bench`: the default groups (codec, link_ops, store, link, http, call_home, analysis, web), or those named as
 * arguments (e.g. `pnpm bench codec`). The long runs — `fuzz`, `load` and `load_postgres` (two relays on one
 * PostgreSQL database) — run only when named (`pnpm bench fuzz`, `pnpm bench load`). Speed and memory targets live here, never in timed tests.
 */
import { runCodecBench } from './codec.bench.js';
import { runLinkOpsBench } from './link-ops.bench.js';
import { runStoreBench } from './store.bench.js';
import { runArchiveBench } from './archive.bench.js';
import { runLinkBench } from './link.bench.js';
import { runHttpBench } from './http.bench.js';
import { runCallHomeBench } from './call-home.bench.js';
import { runFuzz } from './fuzz.js';
import { runLoadBench } from './load.bench.js';
import { runAnalysisBench } from './analysis.bench.js';
import { runLoadPostgresBench } from './load-postgres.bench.js';
import { runWebBench } from './web.bench.js';

const groups: Record<string, () => { ok: boolean } | Promise<{ ok: boolean }>> = {
  codec: runCodecBench,
  link_ops: runLinkOpsBench,
  store: runStoreBench,
  archive: runArchiveBench,
  link: runLinkBench,
  http: runHttpBench,
  call_home: runCallHomeBench,
  fuzz: runFuzz,
  load: runLoadBench,
  analysis: runAnalysisBench,
  load_postgres: runLoadPostgresBench,
  web: runWebBench,
};

/** Run only when named: the long runs. */
const LONG = new Set(['fuzz', 'load', 'load_postgres']);

const wanted = process.argv.slice(2);
const unknown = wanted.filter((g) => !(g in groups));
if (unknown.length) {
  process.stderr.write(`unknown benchmark group(s): ${unknown.join(', ')}; known: ${Object.keys(groups).join(', ')}\n`);
  process.exit(2);
}
let allOk = true;
for (const [name, run] of Object.entries(groups)) {
  if (wanted.length ? !wanted.includes(name) : LONG.has(name)) continue;
  const { ok } = await run();
  allOk &&= ok;
}
process.stderr.write(`\n${allOk ? 'all targets met' : 'some targets NOT met'}\n`);
process.exitCode = allOk ? 0 : 1;
