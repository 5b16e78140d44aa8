/**
 * How figures are printed on the report. Unknown values print as an em dash; ZC flags print as
 * the vendor prints them (">100", "<1", "N/A"). Only the standard PDF fonts' WinAnsi characters.
 */
import type { Verdict, ZcFlag } from '@sfm/core/analysis';

export const UNKNOWN = '—';

export function fixed(value: number | null | undefined, decimals: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? UNKNOWN : value.toFixed(decimals);
}

/** Velocities: 4 decimals below 1 in/s (the sensitive range's resolution shows), 3 above. */
export function ips(value: number | null | undefined): string {
  return value === null || value === undefined ? UNKNOWN : fixed(value, Math.abs(value) < 1 ? 4 : 3);
}

export function zcFrequency(hz: number | null, flag: ZcFlag | null): string {
  if (hz !== null) return hz.toFixed(1);
  switch (flag) {
    case 'gt_100':
      return '>100';
    case 'lt_1':
      return '<1';
    case 'n/a':
      return 'N/A';
    default:
      return UNKNOWN;
  }
}

export function verdictText(v: Verdict): string {
  return v === 'n/a' ? 'N/A' : v.toUpperCase();
}

export function text(value: string | null | undefined): string {
  return value === null || value === undefined || value.trim() === '' ? UNKNOWN : value;
}

/** A step of 1, 2 or 5 × 10^k giving about `target` intervals over `span`. */
export function niceStep(span: number, target: number): number {
  const raw = span / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const scaled = raw / power;
  return (scaled < 1.5 ? 1 : scaled < 3.5 ? 2 : scaled < 7.5 ? 5 : 10) * power;
}

/** Decimals that print every multiple of `step` distinctly. */
export function decimalsFor(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}
