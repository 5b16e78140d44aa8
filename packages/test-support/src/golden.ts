/** Loads the shared golden byte vectors (../shared/golden/frames.json beside the repository). */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface GoldenFrame {
  name: string;
  provenance: string;
  direction: 'device-to-host' | 'host-to-device';
  wire: string;
  logical_payload?: string;
  checksum: number;
  expect: Record<string, unknown> & { decoded?: Record<string, unknown> };
}
export interface GoldenFile {
  frames: GoldenFrame[];
  line_noise: Record<string, string>;
  float32_be: Record<string, string>;
  stream_example: { wire: string; frames: number };
}

function findGolden(): string {
  if (process.env.SFM_GOLDEN) return process.env.SFM_GOLDEN;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = resolve(dir, '../shared/golden/frames.json');
    if (existsSync(candidate)) return candidate;
    dir = resolve(dir, '..');
  }
  throw new Error('golden vectors not found: expected ../shared/golden/frames.json beside the repository (or set SFM_GOLDEN)');
}

export function loadGolden(): GoldenFile {
  return JSON.parse(readFileSync(findGolden(), 'utf8')) as GoldenFile;
}
