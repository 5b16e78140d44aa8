/**
 * A synthetic blast event: the report's tests and the example rendering in the documentation
 * (scripts/render-example.mjs) use it. Not part of the package's API.
 */
import type { Waveform } from '@sfm/core';
import { analyse, analysisOptions } from '@sfm/core/analysis';
import type { ReportInput } from './report.js';

/** Normal range: 1 body unit = 10 in/s / 2048. */
const GEO_STEP_IPS = 10 / 2048;
const MIC_STEP_PSI = 3.63e-5;

interface Burst {
  /** Tones: frequency (Hz), amplitude, phase (rad). */
  tones: [number, number, number][];
  /** Onset after the trigger (s) and decay time constant (s). */
  onset: number;
  decay: number;
}

/** Quiet noise of about one step before the onset, then decaying tones, quantised to the unit's steps. */
function burst(spec: Burst, rate: number, total: number, pretrigger: number, step: number, seed: number): number[] {
  let state = seed;
  const noise = (): number => {
    state = (state * 48271) % 2147483647; // Park–Miller: exact in doubles
    return state / 2147483647 - 0.5;
  };
  return Array.from({ length: total }, (_, i) => {
    const t = (i - pretrigger) / rate - spec.onset;
    let v = 1.2 * step * noise();
    if (t >= 0) {
      const rise = Math.min(1, t / 0.02);
      const envelope = rise * Math.exp(-t / spec.decay);
      for (const [hz, amplitude, phase] of spec.tones) v += envelope * amplitude * Math.sin(2 * Math.PI * hz * t + phase);
    }
    return Math.round(v / step) * step;
  });
}

export function exampleWaveform(seconds = 3, rate = 1024, scale = 1): Waveform {
  const pretrigger = Math.round(0.25 * rate);
  const total = pretrigger + Math.round(seconds * rate);
  const geo = (spec: Burst, seed: number) => burst({ ...spec, tones: spec.tones.map(([f, a, p]) => [f, a * scale, p]) }, rate, total, pretrigger, GEO_STEP_IPS, seed);
  const channels = {
    Tran: geo({ tones: [[14, 0.42, 0], [38, 0.12, 1]], onset: 0.02, decay: 0.35 }, 7),
    Vert: geo({ tones: [[9, 0.55, 0.4], [27, 0.1, 2]], onset: 0.0, decay: 0.45 }, 11),
    Long: geo({ tones: [[22, 0.3, 1.1]], onset: 0.04, decay: 0.3 }, 13),
    MicL: burst({ tones: [[6, 0.0021, 0], [17, 0.0006, 1]], onset: 0.18, decay: 0.25 }, rate, total, pretrigger, MIC_STEP_PSI, 17),
  };
  return {
    schema: 'sfm.waveform.v1',
    serial: 'UM11873',
    index: 4,
    key: '0111A400',
    timestamp: '2026-04-09T07:15:02',
    sample_rate: rate,
    pretrigger_samples: pretrigger,
    t0_s: -pretrigger / rate,
    channels: (Object.entries(channels) as [keyof typeof channels, number[]][]).map(([name, samples]) => {
      let at = 0;
      for (let i = 1; i < samples.length; i++) if (Math.abs(samples[i]!) > Math.abs(samples[at]!)) at = i;
      return {
        name,
        unit: name === 'MicL' ? 'psi' : 'in/s',
        full_scale: name === 'MicL' ? 1.189 : 10,
        peak: { value: Math.abs(samples[at]!), t_s: (at - pretrigger) / rate },
        samples,
      };
    }),
  };
}

/** The example event judged against `standard` (default: USBM drywall, then the OSMRE chart). */
export function exampleReportInput(seconds = 3, rate = 1024, scale = 1, standard = 'usbm-ri8507-drywall,osmre-chart'): ReportInput {
  const waveform = exampleWaveform(seconds, rate, scale);
  const options = analysisOptions(undefined, { standard });
  return {
    waveform,
    analysis: analyse(waveform, options),
    curves: options.curves,
    event: {
      key: waveform.key,
      timestamp: waveform.timestamp,
      received_at: '2026-04-09T11:31:40Z',
      record_type: 'waveform',
      record_time_s: seconds,
      trigger_level_ips: null,
      project: { project: 'Quarry North Expansion', client: 'Acme Aggregates', operator: 'J. Smith', sensor_location: 'House 14, NE foundation corner', notes: 'Shot 2026-117, bench 3' },
    },
    unit: { firmware: 'S338.17', trigger_level_ips: 0.02, mic_trigger_psi: 0.0029 },
    version: '0.1.0',
  };
}
