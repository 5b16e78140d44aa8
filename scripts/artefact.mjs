#!/usr/bin/env node
/**
 * Builds the deployable artefact: a directory that runs `sfm` with `node` and nothing else, and a
 * .tar.gz of it.
 *
 *   node scripts/artefact.mjs [--out DIR] [--no-tar]        (pnpm artefact)
 *
 * DIR (default ./artefact) receives sfm-<version>/ and sfm-<version>-<os>-<arch>-node<major>.tar.gz
 * (the native modules are compiled for this platform and this Node major, so the name says which).
 * The directory holds @sfm/app's compiled JS (dist/), its production dependencies in one flat
 * node_modules/ (the workspace packages as built JS; better-sqlite3 and serialport's bindings
 * compiled), the launcher bin/sfm, the systemd unit and an example configuration (deploy/),
 * LICENSE and CHANGELOG.md. No TypeScript, source maps, tests, dev dependencies, symlinks or paths
 * into this checkout: it runs from wherever it is copied. The server is not bundled: the files are
 * tsc's output, as in development.
 *
 * `pnpm deploy` gathers the files from the packages scripts/setup.sh put in pnpm's store (the
 * registry is asked only for metadata the store lacks);
 * they are then copied — not hard-linked to the store — through the filter below.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const APP = '@sfm/app';
const manifestOf = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
const app = manifestOf(join(ROOT, 'packages/app'));
/** The workspace's package names: deployed as built JS, their manifests settled below. */
const WORKSPACE = readdirSync(join(ROOT, 'packages'))
  .filter((d) => existsSync(join(ROOT, 'packages', d, 'package.json')))
  .map((d) => manifestOf(join(ROOT, 'packages', d)).name);
const nodeMajor = process.versions.node.split('.')[0];
const NAME = `sfm-${app.version}`;
const TARBALL = `${NAME}-${process.platform}-${process.arch}-node${nodeMajor}.tar.gz`;
/** Copied from the repository into the artefact, as they are. */
const EXTRAS = ['LICENSE', 'CHANGELOG.md', 'deploy'];

/** Paths (relative to the deployed app, `/`-separated) that the artefact leaves out, and why. */
const LEFT_OUT = [
  // pnpm's bookkeeping (it names this checkout) and its command shims
  /^pnpm-(lock|workspace)\.yaml$/,
  /^node_modules\/(\.pnpm|\.bin|\.modules\.yaml|\.pnpm-workspace-state[^/]*)$/,
  // TypeScript (sources and declarations) and source maps: nothing runs them
  /\.[mc]?ts$/,
  /\.map$/,
  // C and C++ sources and headers: the native modules are already compiled (see isBuildLeftover)
  /\.(c|cc|cpp|cxx|h|hh|hpp)$/,
  // tests: a package's test directory, any *.test.js (also one a stale build left in a dist/)
  /(^|\/)node_modules\/(@[^/]+\/)?[^/]+\/(test|tests|__tests__)$/,
  /\.test(-helpers)?\.[mc]?js$/,
];

/** What stops the build, said plainly (no stack: the message names what and why). */
class Failure extends Error {}
function fail(message) {
  throw new Failure(message);
}

function parseArgs(argv) {
  const opts = { out: join(ROOT, 'artefact'), tar: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-tar') opts.tar = false;
    else if (a === '--out' && argv[i + 1]) opts.out = resolve(argv[++i]);
    else if (a.startsWith('--out=')) opts.out = resolve(a.slice('--out='.length));
    else fail(`unknown argument ${JSON.stringify(a)} (usage: node scripts/artefact.mjs [--out DIR] [--no-tar])`);
  }
  return opts;
}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
  if (r.error) fail(`${command} could not start: ${r.error.message}${r.error.code === 'ENOENT' ? ' (run sh scripts/setup.sh first)' : ''}`);
  if (r.status !== 0) fail(`${command} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
  return r;
}

/**
 * What node-gyp leaves in a native package's build/ besides the module itself (object files, the
 * static SQLite library, makefiles): only build/Release/*.node is loaded at run time.
 */
function isBuildLeftover(from, rel) {
  const m = /^((?:.*\/)?node_modules\/(?:@[^/]+\/)?[^/]+)\/build(\/.*)?$/.exec(rel);
  if (!m || !existsSync(join(from, m[1], 'binding.gyp'))) return false;
  const rest = m[2] ?? '';
  return !(rest === '' || rest === '/Release' || /^\/Release\/[^/]+\.node$/.test(rest));
}

/** A prebuilt native module for another platform (prebuildify's prebuilds/<os>-<arch>[+<arch>…]). */
function isForeignPrebuild(rel) {
  const m = /\/prebuilds\/([^/]+)$/.exec(rel);
  if (!m) return false;
  const [os, archs = ''] = m[1].split('-');
  return os !== process.platform || !archs.split('+').includes(process.arch);
}

/** Copies the deployed app into `to` through the filter: real files, no links. */
function copyKept(from, to) {
  cpSync(from, to, {
    recursive: true,
    dereference: true,
    filter: (src) => {
      const rel = relative(from, src).split(sep).join('/');
      return rel === '' || !(LEFT_OUT.some((re) => re.test(rel)) || isBuildLeftover(from, rel) || isForeignPrebuild(rel));
    },
  });
  removeEmptyDirs(to);
}

/** Directories the filter emptied (a native package's C++ src/, say) go too. */
function removeEmptyDirs(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeEmptyDirs(join(dir, entry.name));
  }
  if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
}

/**
 * The artefact's own manifests (its root and the workspace packages') name their workspace
 * dependencies by version instead of by `workspace:`/`file:` path, keep no dev dependencies or
 * scripts, and export only files that are there (no `types`, no `sfm-source` TypeScript).
 */
function settleManifests(dir) {
  const manifests = [dir, ...WORKSPACE.map((name) => join(dir, 'node_modules', name))]
    .map((pkg) => join(pkg, 'package.json'))
    .filter((file) => existsSync(file));
  const versionOf = (name) => manifestOf(join(dir, 'node_modules', name)).version;
  const keepExisting = (pkgDir, exportsField) => {
    if (typeof exportsField === 'string') return existsSync(join(pkgDir, exportsField)) ? exportsField : undefined;
    if (!exportsField || typeof exportsField !== 'object') return exportsField;
    const kept = Object.entries(exportsField)
      .map(([k, v]) => [k, keepExisting(pkgDir, v)])
      .filter(([, v]) => v !== undefined);
    return kept.length ? Object.fromEntries(kept) : undefined;
  };
  for (const file of manifests) {
    const m = JSON.parse(readFileSync(file, 'utf8'));
    for (const [name, spec] of Object.entries(m.dependencies ?? {})) {
      if (/(^|@)(workspace|file|link):/.test(spec)) m.dependencies[name] = versionOf(name);
    }
    delete m.devDependencies;
    delete m.scripts;
    if (Object.keys(m.optionalDependencies ?? {}).length === 0) delete m.optionalDependencies;
    if (m.exports) m.exports = keepExisting(dirname(file), m.exports);
    // The native modules are compiled for this Node major: say so where npm and people look.
    if (file === manifests[0]) m.engines = { ...m.engines, node: `${nodeMajor}.x` };
    rmSync(file); // a fresh file: never write through a link into pnpm's store
    writeFileSync(file, `${JSON.stringify(m, null, 2)}\n`);
  }
}

/** bin/sfm: runs dist/main.js with the `node` on PATH ($NODE overrides), through symlinks too. */
const LAUNCHER = `#!/bin/sh
# sfm, from this artefact: dist/main.js with the node on PATH (or $NODE). Works from any directory
# and through a symlink (e.g. /usr/local/bin/sfm -> /opt/sfm/bin/sfm).
here=$(dirname "$(readlink -f "$0")")
exec "\${NODE:-node}" "$here/../dist/main.js" "$@"
`;

/** A .tar.gz of out/name at `file`, its entries under name/. */
function tarball(out, name, file) {
  // Owned by root in the archive, whoever builds it: an install under /opt must not be writable by them.
  const gnu = /GNU tar/.test(spawnSync('tar', ['--version'], { encoding: 'utf8' }).stdout ?? '');
  const owner = gnu ? ['--owner=0', '--group=0', '--numeric-owner'] : ['--uid', '0', '--gid', '0'];
  run('tar', ['-czf', file, ...owner, '-C', out, name]);
}

function sizeOf(dir) {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return { bytes, files };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const env = { ...process.env };
  // As scripts/setup.sh: should better-sqlite3 have to compile, node-gyp needs Node's headers.
  if (!env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) env.npm_config_nodedir = '/usr';

  run(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-b']);
  // The web application's static files (@sfm/web's dist/, a dependency of the app) go in with it.
  run('pnpm', ['--filter', '@sfm/web', 'build'], { env });
  mkdirSync(opts.out, { recursive: true });
  const dir = join(opts.out, NAME);
  // Made beside its final place and renamed into it once whole: never a half-made artefact.
  const partial = join(opts.out, `.${NAME}.partial-${process.pid}`);
  const staging = mkdtempSync(join(tmpdir(), 'sfm-artefact-'));
  try {
    const deployed = join(staging, 'app');
    run('pnpm', ['--filter', APP, 'deploy', '--prod', '--prefer-offline', '--node-linker', 'hoisted', '--reporter', 'append-only', deployed], { env });
    copyKept(deployed, partial);
    settleManifests(partial);
    mkdirSync(join(partial, 'bin'));
    writeFileSync(join(partial, 'bin', 'sfm'), LAUNCHER);
    chmodSync(join(partial, 'bin', 'sfm'), 0o755);
    for (const extra of EXTRAS) cpSync(join(ROOT, extra), join(partial, extra), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(partial, { recursive: true, force: true });
  }
  const { bytes, files } = sizeOf(dir);
  console.log(`artefact: ${dir} (${files} files, ${(bytes / 1e6).toFixed(1)} MB; runs with Node ${nodeMajor} on ${process.platform}-${process.arch})`);
  if (opts.tar) {
    const partialTar = join(opts.out, `.${TARBALL}.partial-${process.pid}`);
    try {
      tarball(opts.out, NAME, partialTar);
      renameSync(partialTar, join(opts.out, TARBALL));
    } finally {
      rmSync(partialTar, { force: true });
    }
    console.log(`artefact: ${join(opts.out, TARBALL)} (${(statSync(join(opts.out, TARBALL)).size / 1e6).toFixed(1)} MB)`);
  }
}

try {
  main();
} catch (e) {
  if (!(e instanceof Failure)) throw e;
  console.error(`artefact: ${e.message}`);
  process.exitCode = 1;
}
