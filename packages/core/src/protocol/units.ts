/**
 * Unit conversions for MiniMate Plus waveform samples.
 *
 * Waveform bodies carry samples in "units" (see waveform-body.ts):
 * - geophones (Tran/Vert/Long): 1 unit = 16 ADC counts, and 32768 counts = the range's full scale;
 * - microphone (MicL): 1 unit = 1 native count.
 *
 * Do NOT scale geophone counts by 6.206053 / 32767 (a constant seen in other tools): that was a bug
 * which made plotted velocities ~38% too small. Full scale is 10.0 in/s (normal) or 1.25 in/s
 * (sensitive) at 32768 counts.
 */

export type GeoRange = 'normal' | 'sensitive';

/** Geophone ADC counts per body unit. */
export const GEO_COUNTS_PER_UNIT = 16;

const ADC_FULL_SCALE_COUNTS = 32768;
const INT16_MIN = -32768;
const INT16_MAX = 32767;

/** Geophone full-scale velocity (in/s) for a range setting. */
export function geoFullScaleIps(range: GeoRange): number {
  switch (range) {
    case 'normal':
      return 10.0;
    case 'sensitive':
      return 1.25;
    default:
      throw new RangeError(`unknown geophone range: ${String(range)}`);
  }
}

/** Geophone body units → particle velocity in in/s. */
export function geoUnitsToIps(units: number, range: GeoRange): number {
  return (units * GEO_COUNTS_PER_UNIT * geoFullScaleIps(range)) / ADC_FULL_SCALE_COUNTS;
}

/** Particle velocity in in/s → geophone body units (rounded to the nearest unit, clamped to int16). */
export function ipsToGeoUnits(ips: number, range: GeoRange): number {
  return roundClampInt16((ips * ADC_FULL_SCALE_COUNTS) / (geoFullScaleIps(range) * GEO_COUNTS_PER_UNIT));
}

/** Blastware's dB(L) formula: dB = MIC_DBL_OFFSET + 20·log10|counts| (re 20 µPa). */
const MIC_DBL_OFFSET = 81.94;
/** The reference pressure of sound pressure levels (dB re 20 µPa). */
export const REFERENCE_PRESSURE_PA = 20e-6;
export const PA_PER_PSI = 6894.757;

/**
 * Microphone pressure per count, in psi (≈ 3.63e-5 psi ≈ 0.25 Pa per count).
 *
 * Analysis-derived, not documented by the vendor: it inverts Blastware's dB(L) formula
 * (dB = 81.94 + 20·log10|c| re 20 µPa), i.e. p[Pa] = 20e-6 · 10^(81.94/20) · c.
 */
export const MIC_PSI_PER_COUNT: number = dbToPsi(MIC_DBL_OFFSET);

/** Microphone counts (= MicL body units) → overpressure in psi. */
export function micCountsToPsi(counts: number): number {
  return counts * MIC_PSI_PER_COUNT;
}

/** Overpressure in psi → microphone counts (rounded, clamped to int16). */
export function psiToMicCounts(psi: number): number {
  return roundClampInt16(psi / MIC_PSI_PER_COUNT);
}

/** Pressure in psi → dB re 20 µPa: 20·log10(p_Pa / 20 µPa). */
export function psiToDb(psi: number): number {
  return 20 * Math.log10((psi * PA_PER_PSI) / REFERENCE_PRESSURE_PA);
}

/** dB re 20 µPa → pressure in psi. */
export function dbToPsi(db: number): number {
  return (REFERENCE_PRESSURE_PA * 10 ** (db / 20)) / PA_PER_PSI;
}

/**
 * Microphone counts → signed dB(L): sign(c)·(81.94 + 20·log10|c|) for |c| ≥ 1, 0 below one count
 * (the log would go negative/infinite there, and less than a count is below the noise floor anyway).
 */
export function micCountsToDbl(counts: number): number {
  const magnitude = Math.abs(counts);
  if (!(magnitude >= 1)) return 0;
  return Math.sign(counts) * (MIC_DBL_OFFSET + 20 * Math.log10(magnitude));
}

function roundClampInt16(value: number): number {
  if (Number.isNaN(value)) throw new RangeError('cannot convert NaN to a sample value');
  const rounded = Math.round(value);
  // `+ 0` turns Math.round's -0 into 0.
  return Math.min(INT16_MAX, Math.max(INT16_MIN, rounded)) + 0;
}
