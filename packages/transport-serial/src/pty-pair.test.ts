import { existsSync, readlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPtyPair } from './index.js';

describe('createPtyPair', () => {
  it('makes two linked pty ends and removes them on close (idempotent)', async () => {
    const pair = await createPtyPair();
    try {
      expect(existsSync(pair.a)).toBe(true);
      expect(existsSync(pair.b)).toBe(true);
      expect(readlinkSync(pair.a)).toMatch(/^\/dev\/pts\/\d+$/);
      expect(readlinkSync(pair.b)).not.toBe(readlinkSync(pair.a));
    } finally {
      await pair.close();
    }
    await pair.close();
    expect(existsSync(pair.a)).toBe(false);
    expect(existsSync(dirname(pair.a))).toBe(false);
  });

  it('makes independent pairs', async () => {
    const [p, q] = await Promise.all([createPtyPair(), createPtyPair()]);
    try {
      expect(new Set([p.a, p.b, q.a, q.b]).size).toBe(4);
    } finally {
      await Promise.all([p.close(), q.close()]);
    }
  });
});
