/**
 * Comparisons with a peer, declared once for every group that compares (store, http): the steps
 * run interleaved — peer, sfm, peer, sfm … — for ROUNDS rounds (default 5), so machine noise hits
 * both sides alike; each side is summarised as its median with min–max, each round's ratio is
 * taken between that round's values, and a target is met when the median ratio meets it.
 */

/** Rounds of every interleaved comparison (`ROUNDS`, default 5; fewer is for a quick look only). */
export const ROUNDS = Math.max(1, Math.floor(Number(process.env.ROUNDS ?? '5')) || 5);
export const MIN_ROUNDS = 5;

/** One metric over the rounds: every round's value (null: not measured that round) and its median, min and max. */
export interface Spread {
  values: (number | null)[];
  median: number | null;
  min: number | null;
  max: number | null;
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function spread(values: readonly (number | null | undefined)[]): Spread {
  const vs = values.map((v) => (v === undefined || v === null || !Number.isFinite(v) ? null : v));
  const ok = vs.filter((v): v is number => v !== null);
  return { values: vs.map((v) => (v === null ? null : round(v))), median: nul(median(ok)), min: ok.length ? round(Math.min(...ok)) : null, max: ok.length ? round(Math.max(...ok)) : null };
}

function round(v: number): number {
  return Math.abs(v) >= 100 ? Math.round(v * 10) / 10 : Math.round(v * 1000) / 1000;
}
function nul(v: number | null): number | null {
  return v === null ? null : round(v);
}

/** What one step measured in one round: metric id → value (null: not measured). */
export type Metrics = Record<string, number | null>;

export interface Step {
  /** e.g. `peer`, `sqlite`, `/device/info|sfm`. */
  name: string;
  run: (round: number) => Metrics | Promise<Metrics>;
  /** Run in the first `rounds` rounds only (a slow, informational row); default every round. */
  rounds?: number;
}

/** Per step, per metric, the value of each round. */
export interface Series {
  rounds: number;
  /** series[step][metric][round] */
  values: Record<string, Record<string, (number | null)[]>>;
  /** What failed, per step: `round N: message`. */
  errors: Record<string, string[]>;
}

/**
 * Runs the steps in order, round after round (peer, sfm, peer, sfm …): the single place where the
 * interleaving is declared. A step that throws leaves that round's values empty and its error noted.
 */
export async function interleave(group: string, steps: readonly Step[], rounds = ROUNDS): Promise<Series> {
  const out: Series = { rounds, values: {}, errors: {} };
  for (const s of steps) {
    out.values[s.name] = {};
    out.errors[s.name] = [];
  }
  if (rounds < MIN_ROUNDS) process.stderr.write(`[${group}] ROUNDS=${rounds} (< ${MIN_ROUNDS}): a quick look, not a verdict to rely on\n`);
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (const s of steps) {
      if (s.rounds !== undefined && r >= s.rounds) continue;
      let m: Metrics = {};
      try {
        m = await s.run(r);
      } catch (e) {
        out.errors[s.name]!.push(`round ${r + 1}: ${(e as Error).message}`);
      }
      for (const [k, v] of Object.entries(m)) (out.values[s.name]![k] ??= Array<number | null>(rounds).fill(null))[r] = v;
    }
    process.stderr.write(`[${group}] round ${r + 1}/${rounds} done in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  }
  return out;
}

/** One metric of one step over the rounds (nulls for the rounds it did not run). */
export function seriesOf(s: Series, step: string, metric: string): (number | null)[] {
  return s.values[step]?.[metric] ?? Array<number | null>(s.rounds).fill(null);
}

/** One comparison row: sfm against a peer on one metric, with the per-round ratios. */
export interface Comparison {
  id: string;
  /** The sfm side (e.g. `sqlite`, `memory`, `relay hot tier`, `sfm`). */
  impl: string;
  /** The peer (e.g. `peer_store_bench.py`, `peer_http_verbatim.py`). */
  peer_impl: string;
  unit: string;
  sfm: Spread;
  peer: Spread;
  /** sfm ÷ peer per round (higher is better), over the rounds where both were measured. */
  ratio: Spread;
  /** The target on the median ratio (× the peer); null: informational. */
  target: number | null;
  /** Median ratio ≥ target; false when it could not be measured; null without a target. */
  met: boolean | null;
  note?: string;
}

export function compare(o: { id: string; impl: string; peer_impl: string; unit: string; sfm: readonly (number | null)[]; peer: readonly (number | null)[]; target: number | null; note?: string }): Comparison {
  const ratios = o.sfm.map((v, i) => {
    const p = o.peer[i];
    return v !== null && p !== null && p !== undefined && p > 0 ? v / p : null;
  });
  const ratio = spread(ratios);
  const met = o.target === null ? null : ratio.median !== null && ratio.median >= o.target;
  return { id: o.id, impl: o.impl, peer_impl: o.peer_impl, unit: o.unit, sfm: spread(o.sfm), peer: spread(o.peer), ratio, target: o.target, met, ...(o.note ? { note: o.note } : {}) };
}

// --- formatting for the tables ---------------------------------------------------------------------

export function fmtNum(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en') : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** `median (min–max)`. */
export function fmtSpread(s: Spread): string {
  return s.median === null ? '—' : `${fmtNum(s.median)} (${fmtNum(s.min)}–${fmtNum(s.max)})`;
}

export function fmtRatio(s: Spread): string {
  const x = (v: number | null) => (v === null ? '—' : v >= 10 ? v.toFixed(0) : v.toFixed(1));
  return s.median === null ? '—' : `${x(s.median)}× (${x(s.min)}–${x(s.max)})`;
}

export function fmtTarget(c: Comparison): string {
  if (c.target === null) return 'info';
  return `≥${c.target}× ${c.met ? 'met' : 'NOT MET'}`;
}
