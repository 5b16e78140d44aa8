import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { analyse, analysisSummary } from './analyse.js';
import { G_IPS2 } from './constants.js';
import { airBlastLimit, standardCurve, userCurve } from './curves.js';
import { analysisOptions, analysisSettings } from './standards.js';
import { taperedTone, waveformOf } from './signals.test-helpers.js';
import { checkValue } from '../schema/check.js';
import * as S from '../schema/shapes.js';
import type { Analysis, ChannelAnalysis } from '../model.js';

const tran = (a: Analysis): ChannelAnalysis => a.channels.find((c) => c.name === 'Tran')!;

/**
 * The pure-tone checks of analysis.md §1, with tolerances from the sampling itself (h = 2πf/rate,
 * the phase step between samples):
 * - PPV: the largest sample lies within half a sample of a crest, so V·cos(h/2) ≤ PPV ≤ V;
 * - acceleration: first differences are 2πfV·sinc(h/2)·cos(phase at mid-interval), and some
 *   interval's middle is within h/2 of a slope maximum, so 2πfV·sinc(h/2)·cos(h/2) ≤ a ≤ 2πfV;
 * - ZC frequency: linear interpolation of a sine's crossing errs by O(h³) (≈ 0.01·h³ relative at
 *   worst); h³/50 plus 2e-5 for the taper's slight distortion of the half cycles next to it;
 * - displacement: the trapezoid rule on a half sine under-reads by h²/12; allowed h²/10;
 * - FFT dominant frequency: within 0.1 % (Hann window, parabolic refinement).
 */
function expectPureTone(a: Analysis, hz: number, amplitude: number, rate: number): void {
  const c = tran(a);
  const h = (2 * Math.PI * hz) / rate;
  const omega = 2 * Math.PI * hz;
  const sinc = Math.sin(h / 2) / (h / 2);
  expect(c.ppv_ips!).toBeLessThanOrEqual(amplitude * (1 + 1e-12));
  expect(c.ppv_ips!).toBeGreaterThanOrEqual(amplitude * Math.cos(h / 2) * (1 - 1e-12));
  expect(c.zc_flag).toBeNull();
  expect(Math.abs(c.zc_freq_hz! / hz - 1)).toBeLessThanOrEqual(h ** 3 / 50 + 2e-5);
  const accelIps2 = c.peak_accel_g! * G_IPS2;
  expect(accelIps2).toBeLessThanOrEqual(omega * amplitude * (1 + 1e-12));
  expect(accelIps2).toBeGreaterThanOrEqual(omega * amplitude * sinc * Math.cos(h / 2) * (1 - 1e-12));
  expect(Math.abs(c.peak_disp_in! / (amplitude / omega) - 1)).toBeLessThanOrEqual((h * h) / 10 + 1e-9);
  expect(Math.abs(c.dominant_freq_hz! / hz - 1)).toBeLessThanOrEqual(1e-3);
}

describe('analyseWaveform on pure tones', () => {
  for (const rate of [1024, 4096]) {
    for (const hz of [2, 5, 10, 20, 40, 60, 90]) {
      for (const amplitude of [0.02, 0.5, 4]) {
        it(`${hz} Hz, ${amplitude} in/s at ${rate} Sa/s`, () => {
          const w = waveformOf({ Tran: taperedTone({ hz, amplitude, rate, seconds: 3, phase: 0.3 }) }, rate);
          expectPureTone(analyse(w), hz, amplitude, rate);
        });
      }
    }
  }

  it('holds for any frequency 2–90 Hz, amplitude and phase', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1024, 4096),
        fc.double({ min: 2, max: 90, noNaN: true }),
        fc.double({ min: 0.005, max: 9, noNaN: true }),
        fc.double({ min: 0, max: 2 * Math.PI, noNaN: true }),
        (rate, hz, amplitude, phase) => {
          const w = waveformOf({ Tran: taperedTone({ hz, amplitude, rate, seconds: 3, phase }) }, rate);
          expectPureTone(analyse(w), hz, amplitude, rate);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('gives the PPV its sample time from the trigger, and the PVS of one moving axis is its PPV', () => {
    const rate = 1024;
    const samples = taperedTone({ hz: 12, amplitude: 1.5, rate, seconds: 2, phase: 1 });
    const zeros = new Array<number>(samples.length).fill(0);
    const a = analyse(waveformOf({ Tran: samples, Vert: zeros, Long: zeros }, rate, 256));
    const c = tran(a);
    const index = Math.round((c.ppv_t_s! + 256 / rate) * rate);
    expect(Math.abs(samples[index]!)).toBe(c.ppv_ips);
    expect(a.pvs.ips).toBeCloseTo(c.ppv_ips!, 12);
    expect(a.pvs.t_s).toBe(c.ppv_t_s);
  });
});

describe('ZC flags', () => {
  it('does not compute above 100 Hz: a 150 Hz tone at 1024 Sa/s is gt_100', () => {
    const a = analyse(waveformOf({ Tran: taperedTone({ hz: 150, amplitude: 1, rate: 1024, seconds: 2 }) }, 1024));
    expect(tran(a).zc_freq_hz).toBeNull();
    expect(tran(a).zc_flag).toBe('gt_100');
    expect(tran(a).ppv_ips).toBeGreaterThan(0.9);
  });

  it('computes 95 Hz and flags 105 Hz at 4096 Sa/s too (the ceiling is 100 Hz at every rate)', () => {
    const at = (hz: number): ChannelAnalysis => tran(analyse(waveformOf({ Tran: taperedTone({ hz, amplitude: 1, rate: 4096, seconds: 2 }) }, 4096)));
    expect(at(95).zc_freq_hz).toBeCloseTo(95, 1);
    expect(at(105)).toMatchObject({ zc_freq_hz: null, zc_flag: 'gt_100' });
  });

  it('is lt_1 when the peak half cycle starts before the record', () => {
    // cos from its crest at t = 0: the crossing before the peak is outside the record.
    const rate = 1024;
    const samples = Array.from({ length: rate }, (_, i) => 2 * Math.exp(-i / 200) * Math.cos((2 * Math.PI * 3 * i) / rate));
    const c = tran(analyse(waveformOf({ Tran: samples }, rate)));
    expect(c).toMatchObject({ ppv_ips: 2, ppv_t_s: 0, zc_freq_hz: null, zc_flag: 'lt_1' });
  });

  it('is lt_1 when the peak half cycle ends after the record', () => {
    const rate = 1024;
    const samples = Array.from({ length: 300 }, (_, i) => Math.sin((2 * Math.PI * 0.5 * i) / rate) - 0.01);
    expect(tran(analyse(waveformOf({ Tran: samples }, rate))).zc_flag).toBe('lt_1');
  });

  it('is n/a, with every figure null, on a channel with no samples', () => {
    const a = analyse(waveformOf({ Tran: [] }, 1024));
    expect(tran(a)).toEqual({ name: 'Tran', ppv_ips: null, ppv_t_s: null, zc_freq_hz: null, zc_flag: 'n/a', peak_accel_g: null, peak_disp_in: null, dominant_freq_hz: null });
    expect(a.channels.find((c) => c.name === 'Vert')!.zc_flag).toBe('n/a'); // absent from the waveform
    expect(a.mic).toEqual({ pspl_psi: null, pspl_db: null, t_s: null, zc_freq_hz: null, zc_flag: 'n/a' });
    expect(a.pvs).toEqual({ ips: null, t_s: null });
  });

  it('is n/a on an all-zero channel: its PPV is 0 at its first sample, with no frequency', () => {
    const zeros = new Array<number>(2048).fill(0);
    const a = analyse(waveformOf({ Tran: zeros, Vert: zeros, Long: zeros, MicL: zeros }, 1024, 100));
    const t0 = -100 / 1024;
    expect(tran(a)).toEqual({ name: 'Tran', ppv_ips: 0, ppv_t_s: t0, zc_freq_hz: null, zc_flag: 'n/a', peak_accel_g: 0, peak_disp_in: 0, dominant_freq_hz: null });
    expect(a.mic).toEqual({ pspl_psi: 0, pspl_db: null, t_s: t0, zc_freq_hz: null, zc_flag: 'n/a' });
    expect(a.pvs).toEqual({ ips: 0, t_s: t0 });
    // Nothing moved: a margin of 0 under any curve, whatever the frequency.
    expect(a.compliance[0]!.channels.map((c) => [c.limit_ips, c.margin])).toEqual([[null, 0], [null, 0], [null, 0]]);
    expect(a.compliance[0]!.verdict).toBe('pass');
  });

  it('is n/a on a channel shorter than the event (an incomplete record), the other figures kept', () => {
    const samples = taperedTone({ hz: 10, amplitude: 1, rate: 1024, seconds: 1 });
    const whole = tran(analyse(waveformOf({ Tran: samples }, 1024)));
    const cut = tran(analyse(waveformOf({ Tran: samples }, 1024), { total_samples: samples.length + 1 }));
    expect(whole.zc_freq_hz).toBeCloseTo(10, 2);
    expect(cut).toEqual({ ...whole, zc_freq_hz: null, zc_flag: 'n/a' });
    expect(tran(analyse(waveformOf({ Tran: samples }, 1024), { total_samples: samples.length }))).toEqual(whole);
  });

  it('is n/a on a channel with a non-finite sample', () => {
    const samples = taperedTone({ hz: 10, amplitude: 1, rate: 1024, seconds: 1 });
    samples[100] = Number.NaN;
    expect(tran(analyse(waveformOf({ Tran: samples }, 1024)))).toMatchObject({ ppv_ips: null, zc_flag: 'n/a', peak_disp_in: null });
  });
});

describe('zero crossings on quantised samples', () => {
  it('takes a sample at exactly zero as the crossing, and interpolates between signs', () => {
    // Half cycle from the zero at 2 to the crossing halfway between samples 6 and 7: T½ = 4.5 samples.
    const samples = [0, -1, 0, 1, 3, 4, 1, -1, -1, 0];
    const c = tran(analyse(waveformOf({ Tran: samples }, 500)));
    expect(c.ppv_ips).toBe(4);
    expect(c.zc_freq_hz).toBeCloseTo(500 / 9, 9);
    // Segments: [0, 2] area −1, [2, 6.5] 0.5+2+3.5+2.5+0.25 = 8.75, [6.5, 9] −(0.25+1+0.5) = −1.75.
    expect(c.peak_disp_in).toBeCloseTo(8.75 / 500 / 2, 12);
    expect(c.peak_accel_g).toBeCloseTo((3 * 500) / G_IPS2, 9);
  });

  it('has no displacement without two crossings', () => {
    expect(tran(analyse(waveformOf({ Tran: [1, 2, 3, 2, 1] }, 1024))).peak_disp_in).toBeNull();
  });
});

describe('properties', () => {
  /** A blast-like burst: two decaying tones after a quiet pretrigger. */
  const burst = (rate: number, f1: number, f2: number, mix: number, n: number): number[] =>
    Array.from({ length: n }, (_, i) => {
      const t = i / rate - 0.25;
      if (t < 0) return 0;
      return Math.exp(-3 * t) * (Math.sin(2 * Math.PI * f1 * t) + mix * Math.sin(2 * Math.PI * f2 * t + 1));
    });
  const arbBurst = fc.record({
    rate: fc.constantFrom(1024, 4096),
    f1: fc.double({ min: 3, max: 60, noNaN: true }),
    f2: fc.double({ min: 3, max: 60, noNaN: true }),
    // No subnormal mix: k·v could underflow to an exact zero, which is a crossing by rule.
    mix: fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 0.9, noNaN: true })),
  });
  const record = ({ rate, f1, f2, mix }: { rate: number; f1: number; f2: number; mix: number }) => {
    const n = 2 * rate;
    return waveformOf({ Tran: burst(rate, f1, f2, mix, n), Vert: burst(rate, f2, f1, mix, n), Long: burst(rate, f1 * 1.3, f2, mix, n), MicL: burst(rate, f2, f1 * 0.7, mix, n) }, rate, rate / 4);
  };
  const close = (a: number | null, b: number | null): void => {
    if (a === null || b === null) expect(a).toBe(b);
    else expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));
  };

  it('scaling the signal by k scales PPV, acceleration, displacement, PVS and PSPL by |k|; frequencies and times stay', () => {
    fc.assert(
      fc.property(arbBurst, fc.oneof(fc.double({ min: 0.01, max: 100, noNaN: true }), fc.double({ min: -100, max: -0.01, noNaN: true })), (spec, k) => {
        const w = record(spec);
        const scaled = { ...w, channels: w.channels.map((c) => ({ ...c, samples: c.samples.map((v) => v * k) })) };
        const a = analyse(w);
        const b = analyse(scaled);
        const m = Math.abs(k);
        a.channels.forEach((ca, i) => {
          const cb = b.channels[i]!;
          close(cb.ppv_ips, ca.ppv_ips! * m);
          close(cb.peak_accel_g, ca.peak_accel_g! * m);
          close(cb.peak_disp_in, ca.peak_disp_in! * m);
          expect(cb.ppv_t_s).toBe(ca.ppv_t_s);
          expect(cb.zc_flag).toBe(ca.zc_flag);
          close(cb.zc_freq_hz, ca.zc_freq_hz);
          close(cb.dominant_freq_hz, ca.dominant_freq_hz);
        });
        close(b.pvs.ips, a.pvs.ips! * m);
        expect(b.pvs.t_s).toBe(a.pvs.t_s);
        close(b.mic.pspl_psi, a.mic.pspl_psi! * m);
        close(b.mic.pspl_db, a.mic.pspl_db! + 20 * Math.log10(m));
        close(b.mic.zc_freq_hz, a.mic.zc_freq_hz);
      }),
      { numRuns: 40 },
    );
  });

  it('moving the trigger shifts every time by the same amount and changes nothing else', () => {
    fc.assert(
      fc.property(arbBurst, fc.integer({ min: -2000, max: 2000 }), (spec, shift) => {
        const w = record(spec);
        const moved = { ...w, pretrigger_samples: w.pretrigger_samples + shift, t0_s: w.t0_s - shift / w.sample_rate };
        const a = analyse(w);
        const b = analyse(moved);
        const dt = -shift / w.sample_rate;
        a.channels.forEach((ca, i) => {
          const cb = b.channels[i]!;
          expect({ ...cb, ppv_t_s: 0 }).toEqual({ ...ca, ppv_t_s: 0 });
          close(cb.ppv_t_s, ca.ppv_t_s! + dt);
        });
        close(b.pvs.t_s, a.pvs.t_s! + dt);
        close(b.mic.t_s, a.mic.t_s! + dt);
        expect(b.compliance).toEqual(a.compliance);
      }),
      { numRuns: 30 },
    );
  });

  // The FFT dominant frequency is left out: its window is the record, so a delay moves the burst
  // under the Hann weighting and the figure moves slightly by design (pure tones check it).
  it('delaying the signal by whole samples moves only the times', () => {
    fc.assert(
      fc.property(arbBurst, fc.integer({ min: 1, max: 400 }), (spec, delay) => {
        const w = record(spec);
        const delayed = { ...w, channels: w.channels.map((c) => ({ ...c, samples: [...new Array<number>(delay).fill(0), ...c.samples.slice(0, -delay)] })) };
        const a = analyse(w);
        const b = analyse(delayed);
        const dt = delay / w.sample_rate;
        a.channels.forEach((ca, i) => {
          const cb = b.channels[i]!;
          close(cb.ppv_ips, ca.ppv_ips);
          close(cb.ppv_t_s, ca.ppv_t_s! + dt);
          close(cb.zc_freq_hz, ca.zc_freq_hz);
          close(cb.peak_accel_g, ca.peak_accel_g);
          close(cb.peak_disp_in, ca.peak_disp_in);
        });
        close(b.pvs.ips, a.pvs.ips);
        close(b.pvs.t_s, a.pvs.t_s! + dt);
      }),
      { numRuns: 25 },
    );
  });
});

describe('microphone', () => {
  it('gives dB(L) = 20·log10(psi × 6894.757 / 20 µPa): 0.01 psi is 130.7498 dB', () => {
    // 0.01 psi = 68.94757 Pa; 68.94757 / 20e-6 = 3 447 378.5; log10 = 6.537488; × 20 = 130.7498.
    const mic = Array.from({ length: 1024 }, (_, i) => (i === 500 ? -0.01 : 0.001 * Math.sin(i / 10)));
    const a = analyse(waveformOf({ MicL: mic }, 1024, 256));
    expect(a.mic.pspl_psi).toBe(0.01);
    expect(a.mic.pspl_db).toBeCloseTo(130.7498, 4);
    expect(a.mic.t_s).toBeCloseTo((500 - 256) / 1024, 12);
  });

  it('gives the ZC frequency of the pressure peak by the geophone rule', () => {
    const a = analyse(waveformOf({ MicL: taperedTone({ hz: 20, amplitude: 0.002, rate: 2048, seconds: 2 }) }, 2048));
    expect(a.mic.zc_freq_hz).toBeCloseTo(20, 2);
    expect(a.mic.zc_flag).toBeNull();
  });
});

describe('compliance in the analysis', () => {
  const rate = 1024;
  const event = (ppvs: [number, number, number], hz: number) =>
    waveformOf(
      {
        Tran: taperedTone({ hz, amplitude: ppvs[0], rate, seconds: 3 }),
        Vert: taperedTone({ hz, amplitude: ppvs[1], rate, seconds: 3, phase: 1 }),
        Long: taperedTone({ hz, amplitude: ppvs[2], rate, seconds: 3, phase: 2 }),
      },
      rate,
    );

  it('judges the OSMRE chart by default, with the limit at each channel\'s ZC frequency and its margin', () => {
    const a = analyse(event([0.6, 0.3, 0.1], 8));
    expect(a.compliance.map((r) => r.standard)).toEqual(['osmre-chart']);
    const [chart] = a.compliance;
    expect(chart!.verdict).toBe('pass');
    expect(chart!.source).toMatch(/816\.67\(d\)\(4\)/);
    expect(chart!.channels[0]).toEqual({ name: 'Tran', freq_hz: tran(a).zc_freq_hz, ppv_ips: tran(a).ppv_ips, limit_ips: 0.75, margin: tran(a).ppv_ips! / 0.75 });
  });

  it('judges the standards asked for, in order: plaster at 8 Hz is 0.5 in/s, so 0.6 in/s fails it', () => {
    const a = analyse(event([0.6, 0.3, 0.1], 8), analysisOptions(undefined, { standard: 'usbm-ri8507-drywall,usbm-ri8507-plaster' }));
    expect(a.compliance.map((r) => [r.standard, r.verdict])).toEqual([['usbm-ri8507-drywall', 'pass'], ['usbm-ri8507-plaster', 'fail']]);
    expect(a.compliance[1]!.channels[0]!.margin).toBeGreaterThan(1.1);
    expect(analysisSummary(a).compliance).toBe('fail');
  });

  it('judges osmre-distance without frequency at the distance given, n/a without one', () => {
    const w = event([1.1, 0.3, 0.1], 8);
    const byDistance = analyse(w, analysisOptions(undefined, { standard: 'osmre-distance', distance_ft: 250 })).compliance[0]!;
    expect(byDistance.verdict).toBe('pass');
    expect(byDistance.channels.map((c) => c.limit_ips)).toEqual([1.25, 1.25, 1.25]);
    expect(analyse(w, analysisOptions(undefined, { standard: 'osmre-distance', distance_ft: 1000 })).compliance[0]!.verdict).toBe('fail');
    expect(analyse(w, analysisOptions(undefined, { standard: 'osmre-distance' })).compliance[0]).toMatchObject({ verdict: 'n/a', source: expect.stringMatching(/no distance given/) });
  });

  it('judges a configured curve by its name', () => {
    const problems: string[] = [];
    const settings = analysisSettings(
      { compliance_standards: ['rhode-island'], compliance_distance_ft: null, air_blast_standard: null, compliance_curves: [{ name: 'rhode-island', points: [{ hz: 2.5, ips: 0.5 }, { hz: 10, ips: 0.5 }, { hz: 40, ips: 2 }] }] },
      problems,
    );
    expect(problems).toEqual([]);
    const a = analyse(event([0.6, 0.3, 0.1], 20), analysisOptions(settings));
    expect(a.compliance.map((r) => [r.standard, r.verdict])).toEqual([['rhode-island', 'pass']]);
    expect(a.compliance[0]!.channels[0]!.limit_ips).toBeCloseTo(tran(a).zc_freq_hz! * 0.05, 9);
    expect(a.air_blast).toBeNull();
  });

  it('judges the microphone against the air-blast limit: margin = PSPL / the limit\'s pressure', () => {
    // 0.01 psi is 130.75 dB: under 133 dB (2 Hz system), over 129 dB (6 Hz system).
    const mic = Array.from({ length: 1024 }, (_, i) => (i === 500 ? 0.01 : 0));
    const w = waveformOf({ MicL: mic }, 1024);
    expect(analyse(w).air_blast).toMatchObject({ standard: 'osmre-airblast-2hz', limit_db: 133, verdict: 'pass', margin: expect.closeTo(10 ** ((130.7498 - 133) / 20), 4) });
    expect(analyse(w, { air_blast: airBlastLimit('osmre-airblast-6hz') }).air_blast).toMatchObject({ limit_db: 129, verdict: 'fail' });
    expect(analyse(w, { air_blast: airBlastLimit('osmre-airblast-c-slow') }).air_blast).toMatchObject({ limit_db: 105, margin: null, verdict: 'n/a' });
  });

  it('gives the same verdict whichever way the curve object is made', () => {
    const a = analyse(event([0.6, 0.3, 0.1], 8), { curves: [standardCurve('usbm-ri8507-plaster')] });
    const b = analyse(event([0.6, 0.3, 0.1], 8), analysisOptions(undefined, { standard: ['usbm-ri8507-plaster'] }));
    expect(a.compliance).toEqual(b.compliance);
  });
});

describe('analysisSummary', () => {
  it('takes the FFT dominant frequency of the channel with the largest PPV', () => {
    const rate = 1024;
    const a = analyse(
      waveformOf(
        {
          Tran: taperedTone({ hz: 30, amplitude: 0.2, rate, seconds: 3 }),
          Vert: taperedTone({ hz: 7, amplitude: 0.4, rate, seconds: 3 }),
          Long: taperedTone({ hz: 50, amplitude: 0.1, rate, seconds: 3 }),
        },
        rate,
      ),
      { air_blast: null },
    );
    const s = analysisSummary(a);
    expect(s.max_ppv_ips).toBe(a.channels[1]!.ppv_ips);
    expect(s.dominant_freq_hz).toBe(a.channels[1]!.dominant_freq_hz);
    expect(s.dominant_freq_hz).toBeCloseTo(7, 1);
    expect(s.pvs_ips).toBe(a.pvs.ips);
    expect(s.compliance).toBe('pass');
  });

  it('is n/a with nothing judged and null figures on an empty record', () => {
    expect(analysisSummary(analyse(waveformOf({}, 1024), { curves: [], air_blast: null }))).toEqual({ pvs_ips: null, max_ppv_ips: null, dominant_freq_hz: null, compliance: 'n/a' });
  });

  it('counts the air-blast verdict too', () => {
    const rate = 1024;
    const quiet = taperedTone({ hz: 20, amplitude: 0.1, rate, seconds: 2 });
    const loud = Array.from({ length: quiet.length }, (_, i) => (i === 900 ? 0.05 : 0)); // 144.7 dB
    const a = analyse(waveformOf({ Tran: quiet, Vert: quiet, Long: quiet, MicL: loud }, rate));
    expect(a.compliance[0]!.verdict).toBe('pass');
    expect(a.air_blast!.verdict).toBe('fail');
    expect(analysisSummary(a).compliance).toBe('fail');
  });
});

it('refuses a waveform without a usable sample rate', () => {
  expect(() => analyse(waveformOf({ Tran: [1, -1] }, 0))).toThrow(/sample_rate/);
});

it('returns the JSON shape of analysis.md §4, which the Analysis schema accepts', () => {
  const a = analyse(waveformOf({ Tran: [0, 1, 0, -1, 0], Vert: [0, 1, 0, -1, 0], Long: [0, 1, 0, -1, 0], MicL: [0, 0.001, 0, -0.001, 0] }, 1024));
  expect(Object.keys(a)).toEqual(['schema', 'serial', 'key', 'timestamp', 'sample_rate', 'channels', 'mic', 'pvs', 'compliance', 'air_blast']);
  expect(a).toMatchObject({ schema: 'sfm.analysis.v1', serial: 'UM12345', key: '01110000', timestamp: '2026-04-09T07:15:00', sample_rate: 1024 });
  expect(a.channels.map((c) => c.name)).toEqual(['Tran', 'Vert', 'Long']);
  expect(Object.keys(a.channels[0]!)).toEqual(['name', 'ppv_ips', 'ppv_t_s', 'zc_freq_hz', 'zc_flag', 'peak_accel_g', 'peak_disp_in', 'dominant_freq_hz']);
  expect(Object.keys(a.mic)).toEqual(['pspl_psi', 'pspl_db', 't_s', 'zc_freq_hz', 'zc_flag']);
  expect(Object.keys(a.compliance[0]!)).toEqual(['standard', 'source', 'verdict', 'channels']);
  expect(Object.keys(a.compliance[0]!.channels[0]!)).toEqual(['name', 'freq_hz', 'ppv_ips', 'limit_ips', 'margin']);
  expect(() => checkValue('analysis', S.Analysis, a)).not.toThrow();
  expect(() => checkValue('analysis', S.Analysis, analyse(waveformOf({}, 1024)))).not.toThrow();
});
