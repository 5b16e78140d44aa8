/** `--store sqlite:PATH | memory` → the store to open. */
import { UsageError } from './io.js';

export type StoreSpec = { kind: 'sqlite'; path: string } | { kind: 'memory' };
export const DEFAULT_STORE = 'sqlite:./data/sfm.db';

export function parseStoreSpec(text: string = DEFAULT_STORE): StoreSpec {
  if (text === 'memory' || text === ':memory:') return { kind: 'memory' };
  const m = /^sqlite:(.+)$/.exec(text);
  if (m) return { kind: 'sqlite', path: m[1]! };
  throw new UsageError(`--store: expected sqlite:PATH or memory, got ${JSON.stringify(text)}`);
}
