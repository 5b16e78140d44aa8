import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../errors.js';
import { analysisOptions, analysisOptionsKey, analysisSettings, DEFAULT_ANALYSIS_SETTINGS } from './standards.js';

const withCurve = () => {
  const problems: string[] = [];
  const settings = analysisSettings(
    { compliance_standards: ['usbm-ri8507-drywall'], compliance_distance_ft: 600, air_blast_standard: 'osmre-airblast-6hz', compliance_curves: [{ name: 'client-limit', points: [{ hz: 1, ips: 0.3 }, { hz: 50, ips: 1 }] }] },
    problems,
  );
  expect(problems).toEqual([]);
  return settings;
};

describe('analysisOptions', () => {
  it('takes the configured standards, distance and air-blast limit when the request names none', () => {
    const o = analysisOptions(withCurve());
    expect(o.curves!.map((c) => c.id)).toEqual(['usbm-ri8507-drywall']);
    expect(o.air_blast!.limit_db).toBe(129);
    expect(analysisOptions(withCurve(), { standard: 'osmre-distance' }).curves![0]!.title).toBe('OSMRE limit by distance (600 ft)');
    expect(analysisOptions(withCurve(), { standard: 'osmre-distance', distance_ft: 100 }).curves![0]!.title).toBe('OSMRE limit by distance (100 ft)');
  });

  it('takes standards by name, comma-separated, configured curves included, in the order given', () => {
    expect(analysisOptions(withCurve(), { standard: ' client-limit , osmre-chart' }).curves!.map((c) => c.id)).toEqual(['client-limit', 'osmre-chart']);
    expect(analysisOptions(withCurve(), { standard: ['osmre-chart'] }).curves!.map((c) => c.id)).toEqual(['osmre-chart']);
  });

  it('refuses an unknown, empty or repeated name, naming the parameter and what is known', () => {
    const refusal = (standard: string) => {
      try {
        analysisOptions(withCurve(), { standard });
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidInput);
        return (e as InvalidInput).message;
      }
      throw new Error('expected a refusal');
    };
    expect(refusal('osmre')).toBe('standard: unknown standard "osmre" (known: usbm-ri8507-drywall, usbm-ri8507-plaster, osmre-chart, osmre-distance, client-limit)');
    expect(refusal('osmre-chart,')).toBe('standard: an empty name (give standards separated by commas)');
    expect(refusal('osmre-chart,osmre-chart')).toBe('standard: names "osmre-chart" twice');
    expect(() => analysisOptions(DEFAULT_ANALYSIS_SETTINGS, { standard: 'client-limit' })).toThrow(/unknown standard "client-limit"/);
  });

  it('keys options apart by what they judge', () => {
    const key = (standard?: string, distance_ft?: number) => analysisOptionsKey(analysisOptions(withCurve(), { standard, distance_ft }));
    expect(key()).toBe(key('usbm-ri8507-drywall'));
    expect(key('osmre-chart')).not.toBe(key());
    expect(key('osmre-distance', 100)).not.toBe(key('osmre-distance', 1000));
  });
});
