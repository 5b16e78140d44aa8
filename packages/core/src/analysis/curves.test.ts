import { describe, expect, it } from 'vitest';
import {
  AIR_BLAST_LIMITS, CURVE_RANGE_HZ, CurveDefinitionError, STANDARD_CURVE_IDS, curvePoints, checkCompliance, limitAt, osmreDistanceCurve, scaledDistanceChargeLb, standardCurve, userCurve, type ComplianceCurve,
} from './curves.js';
import type { ChannelAnalysis } from '../model.js';
import type { CurveDefinition } from '../kernel/config.js';

/** Expected limits worked by hand: v = 2π·f·d on the displacement segments. */
function expectLimits(curve: ComplianceCurve, table: [hz: number, ips: number | null][]): void {
  for (const [hz, ips] of table) {
    const limit = limitAt(curve, hz);
    if (ips === null) expect(limit, `${curve.id} at ${hz} Hz`).toBeNull();
    else expect(limit, `${curve.id} at ${hz} Hz`).toBeCloseTo(ips, 3);
  }
}

describe('USBM RI 8507', () => {
  it('drywall: 0.030 in to 3.98 Hz, 0.75 in/s to 14.92 Hz, 0.008 in to 39.79 Hz, then 2.0 in/s', () => {
    expectLimits(standardCurve('usbm-ri8507-drywall'), [
      [0.99, null], // the chart starts at 1 Hz
      [1, 0.1885],
      [1.01, 0.1904],
      [3.93, 0.7408],
      [3.98, 0.75],
      [4.03, 0.75],
      [14.87, 0.75],
      [14.92, 0.75],
      [14.97, 0.7525],
      [25, 1.2566],
      [39.74, 1.9975],
      [39.79, 2.0],
      [39.84, 2.0],
      [100, 2.0],
      [1000, 2.0],
    ]);
  });

  it('plaster: 0.030 in to 2.65 Hz, 0.50 in/s to 9.95 Hz, 0.008 in to 39.79 Hz, then 2.0 in/s', () => {
    expectLimits(standardCurve('usbm-ri8507-plaster'), [
      [0.99, null],
      [1, 0.1885],
      [1.01, 0.1904],
      [2.6, 0.4901],
      [2.65, 0.4995],
      [2.7, 0.5],
      [9.9, 0.5],
      [9.95, 0.5001],
      [10, 0.5027],
      [39.74, 1.9975],
      [39.79, 2.0],
      [39.84, 2.0],
    ]);
  });

  it('is continuous at its breakpoints (they are derived from v = 2πfd)', () => {
    for (const id of ['usbm-ri8507-drywall', 'usbm-ri8507-plaster'] as const) {
      const curve = standardCurve(id);
      for (const s of curve.segments.slice(1)) {
        expect(limitAt(curve, s.from_hz * (1 - 1e-12))).toBeCloseTo(limitAt(curve, s.from_hz)!, 9);
      }
    }
  });
});

describe('OSMRE Figure 1', () => {
  it('0.030 in below 4 Hz, 0.75 in/s to 11 Hz, displacement 0.01085 in capped at 2.0 in/s to 30 Hz, 2.0 in/s from 30 Hz', () => {
    expectLimits(standardCurve('osmre-chart'), [
      [0.5, 0.0942],
      [3.95, 0.7445],
      [4, 0.75],
      [4.05, 0.75],
      [10.95, 0.75],
      [11, 0.75],
      [11.05, 0.7534],
      [20, 1.3636],
      [29, 1.9773],
      [29.3, 1.9977],
      [29.4, 2.0], // the line meets 2.0 in/s at 29.33 Hz: the 2.05 in/s it would reach at 30 Hz is drawn to 2.0
      [29.95, 2.0],
      [30, 2.0],
      [30.05, 2.0],
      [100, 2.0],
    ]);
  });

  it('never allows more than 2.0 in/s; steps from 0.754 to 0.75 in/s at 4 Hz and is continuous at 11 Hz', () => {
    const chart = standardCurve('osmre-chart');
    for (let hz = 0.5; hz < 200; hz *= 1.01) expect(limitAt(chart, hz)!).toBeLessThanOrEqual(2);
    expect(limitAt(chart, 4 * (1 - 1e-12))).toBeCloseTo(0.754, 3);
    expect(limitAt(chart, 11 * (1 - 1e-12))).toBeCloseTo(limitAt(chart, 11)!, 9);
  });
});

describe('OSMRE by distance', () => {
  it('is 1.25 in/s to 300 ft, 1.00 in/s from 301 to 5000 ft, 0.75 in/s beyond, at any frequency', () => {
    const at = (ft: number) => [1.5, 10, 80].map((hz) => limitAt(osmreDistanceCurve(ft), hz));
    expect(at(0)).toEqual([1.25, 1.25, 1.25]);
    expect(at(300)).toEqual([1.25, 1.25, 1.25]);
    expect(at(300.5)).toEqual([1, 1, 1]);
    expect(at(301)).toEqual([1, 1, 1]);
    expect(at(5000)).toEqual([1, 1, 1]);
    expect(at(5001)).toEqual([0.75, 0.75, 0.75]);
    expect(osmreDistanceCurve(1200).source).toMatch(/816\.67\(d\)\(2\).*1\.00 in\/s at 1200 ft/);
  });

  it('gives the scaled-distance charge W = (D / Ds)² with each row\'s factor', () => {
    expect(scaledDistanceChargeLb(300)).toBeCloseTo((300 / 50) ** 2, 12);
    expect(scaledDistanceChargeLb(301)).toBeCloseTo((301 / 55) ** 2, 12);
    expect(scaledDistanceChargeLb(5000)).toBeCloseTo((5000 / 55) ** 2, 12);
    expect(scaledDistanceChargeLb(5001)).toBeCloseTo((5001 / 65) ** 2, 12);
  });

  it('has no limit without a distance, and refuses a negative one', () => {
    expect(limitAt(osmreDistanceCurve(null), 10)).toBeNull();
    expect(limitAt(standardCurve('osmre-distance'), 10)).toBeNull();
    expect(() => osmreDistanceCurve(-5)).toThrow(/distance_ft/);
  });
});

it('keeps the air-blast limits as a table', () => {
  expect(AIR_BLAST_LIMITS.map((r) => [r.id, r.limit_db, r.weighting])).toEqual([
    ['osmre-airblast-0.1hz', 134, 'linear'],
    ['osmre-airblast-2hz', 133, 'linear'],
    ['osmre-airblast-6hz', 129, 'linear'],
    ['osmre-airblast-c-slow', 105, 'C'],
  ]);
});

it('cites a source for every standard curve', () => {
  expect(standardCurve('usbm-ri8507-drywall').source).toMatch(/RI 8507/);
  expect(standardCurve('osmre-chart').source).toMatch(/816\.67\(d\)\(4\)/);
  expect(() => standardCurve('one-and-two' as never)).toThrow(/unknown standard curve/);
});

describe('checkCompliance', () => {
  const channel = (name: ChannelAnalysis['name'], ppv: number | null, hz: number | null, flag: ChannelAnalysis['zc_flag'] = null): ChannelAnalysis => ({
    name, ppv_ips: ppv, ppv_t_s: 0, zc_freq_hz: hz, zc_flag: flag, peak_accel_g: 0, peak_disp_in: 0, dominant_freq_hz: null,
  });
  const drywall = standardCurve('usbm-ri8507-drywall');

  it('passes below the limit and gives the margin ppv / limit', () => {
    const r = checkCompliance(drywall, [channel('Tran', 0.3, 8), channel('Vert', 0.6, 25), channel('Long', 0.1, 50)]);
    expect(r.verdict).toBe('pass');
    expect(r.standard).toBe('usbm-ri8507-drywall');
    expect(r.channels.map((c) => c.margin)).toEqual([0.3 / 0.75, 0.6 / (2 * Math.PI * 25 * 0.008), 0.1 / 2]);
  });

  it('fails at a margin of exactly 1', () => {
    expect(checkCompliance(drywall, [channel('Tran', 0.75, 8)]).verdict).toBe('fail');
    expect(checkCompliance(drywall, [channel('Tran', 0.7499, 8)]).verdict).toBe('pass');
  });

  it('is n/a when a channel has no frequency, unless another channel already fails', () => {
    expect(checkCompliance(drywall, [channel('Tran', 0.3, 8), channel('Vert', 0.2, null, 'lt_1')]).verdict).toBe('n/a');
    expect(checkCompliance(drywall, [channel('Tran', 0.3, 8), channel('Vert', 0.2, null, 'n/a')]).verdict).toBe('n/a');
    expect(checkCompliance(drywall, [channel('Tran', 0.9, 8), channel('Vert', 0.2, null, 'lt_1')]).verdict).toBe('fail');
  });

  it('judges a ">100 Hz" channel against a curve that is flat above 100 Hz', () => {
    const r = checkCompliance(drywall, [channel('Tran', 0.5, null, 'gt_100')]);
    expect(r.channels[0]).toEqual({ name: 'Tran', freq_hz: null, ppv_ips: 0.5, limit_ips: 2, margin: 0.25 });
    expect(r.verdict).toBe('pass');
    const rising = userCurve({ name: 'rising', points: [{ hz: 1, ips: 0.5 }, { hz: 200, ips: 3 }] });
    expect(checkCompliance(rising, [channel('Tran', 0.5, null, 'gt_100')]).verdict).toBe('n/a');
  });

  it('judges every channel of a frequency-independent curve, whatever its frequency flag', () => {
    const r = checkCompliance(osmreDistanceCurve(1000), [channel('Tran', 0.5, null, 'lt_1'), channel('Vert', 1.2, 30)]);
    expect(r.channels.map((c) => c.limit_ips)).toEqual([1, 1]);
    expect(r.verdict).toBe('fail');
    expect(checkCompliance(osmreDistanceCurve(null), [channel('Tran', 0.5, 10)]).verdict).toBe('n/a');
  });
});

describe('userCurve', () => {
  const ri = userCurve({ name: 'rhode-island', title: 'Rhode Island', source: 'RI §23-28.28-9', points: [{ hz: 2.5, ips: 0.5 }, { hz: 10, ips: 0.5 }, { hz: 40, ips: 2 }] });

  it('joins its points with straight lines on the log–log chart and holds the last value above', () => {
    expectLimits(ri, [
      [2, null],
      [2.49, null],
      [2.5, 0.5],
      [2.51, 0.5],
      [6, 0.5],
      [9.99, 0.5],
      [10, 0.5],
      [10.01, 0.5005],
      [20, 1.0], // 0.05·f
      [32, 1.6],
      [39.99, 1.9995],
      [40, 2.0],
      [40.01, 2.0],
      [90, 2.0],
    ]);
    expect([ri.id, ri.title, ri.source]).toEqual(['rhode-island', 'Rhode Island', 'RI §23-28.28-9']);
    expect(userCurve({ name: 'x', points: [{ hz: 1, ips: 1 }, { hz: 2, ips: 1 }] })).toMatchObject({ title: 'x', source: expect.stringMatching(/compliance_curves/) });
  });

  const problemsOf = (def: CurveDefinition): readonly string[] => {
    try {
      userCurve(def);
    } catch (e) {
      expect(e).toBeInstanceOf(CurveDefinitionError);
      return (e as CurveDefinitionError).problems;
    }
    throw new Error('expected the curve to be refused');
  };

  it('refuses a standard curve\'s name, too few points and points out of order, every problem at once', () => {
    expect(problemsOf({ name: 'osmre-chart', points: [{ hz: 1, ips: 1 }, { hz: 2, ips: 1 }] })).toEqual(['name: "osmre-chart" is a standard curve\'s id; choose another name']);
    expect(problemsOf({ name: 'x', points: [{ hz: 1, ips: 1 }] })).toEqual(['points: needs at least 2 points, got 1']);
    expect(problemsOf({ name: 'x', points: [{ hz: 4, ips: 1 }, { hz: 4, ips: 2 }, { hz: 3, ips: 2 }] })).toEqual([
      'points[1].hz: must be greater than points[0].hz (4), got 4',
      'points[2].hz: must be greater than points[1].hz (4), got 3',
    ]);
    expect(() => userCurve({ name: 'x', points: [] })).toThrow('invalid compliance curve: points: needs at least 2 points, got 0');
  });
});

describe('curvePoints: a curve as the corners of its log–log polyline', () => {
  /** The polyline's value at `hz`, interpolated on log–log axes between the corners around it. */
  function polylineAt(points: { hz: number; ips: number }[], hz: number): number | null {
    for (let i = 1; i < points.length; i++) {
      const [a, b] = [points[i - 1]!, points[i]!];
      if (hz >= a.hz && hz < b.hz && a.hz < b.hz) {
        const f = Math.log(hz / a.hz) / Math.log(b.hz / a.hz);
        return Math.exp(Math.log(a.ips) + f * Math.log(b.ips / a.ips));
      }
    }
    return null;
  }

  it.each([...STANDARD_CURVE_IDS.filter((id) => id !== 'osmre-distance')])('%s: joining the corners draws limitAt exactly, 1–1000 Hz', (id) => {
    const curve = standardCurve(id);
    const points = curvePoints(curve);
    expect(points[0]!.hz).toBe(CURVE_RANGE_HZ.from);
    expect(points[points.length - 1]!.hz).toBe(CURVE_RANGE_HZ.to);
    for (let s = 0; s < 600; s++) {
      const hz = 10 ** ((3 * s) / 600);
      expect(polylineAt(points, hz)).toBeCloseTo(limitAt(curve, hz)!, 9);
    }
  });

  it('the OSMRE chart gets a corner where its 2.0 in/s cap starts (29.33 Hz)', () => {
    const corners = curvePoints(standardCurve('osmre-chart')).map((p) => [Number(p.hz.toFixed(2)), Number(p.ips.toFixed(3))]);
    expect(corners).toEqual([[1, 0.188], [4, 0.754], [4, 0.75], [11, 0.75], [29.33, 2], [30, 2], [1000, 2]]);
  });

  it('osmre-distance: one flat line with a distance, no points without one; a narrower range clips', () => {
    expect(curvePoints(standardCurve('osmre-distance', 400))).toEqual([{ hz: 1, ips: 1 }, { hz: 1000, ips: 1 }]);
    expect(curvePoints(standardCurve('osmre-distance'))).toEqual([]);
    expect(curvePoints(standardCurve('usbm-ri8507-plaster'), 10, 20).map((p) => p.hz)).toEqual([10, 20]);
  });
});
