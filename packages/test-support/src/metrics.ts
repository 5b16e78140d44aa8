/** A Metrics that records every report, for tests of what is counted. */
import type { Labels, MetricName, Metrics } from '@sfm/core/kernel';

export interface Report {
  op: 'inc' | 'set' | 'observe';
  name: MetricName;
  labels: Record<string, string>;
  value: number;
}

export class RecordingMetrics implements Metrics {
  readonly reports: Report[] = [];

  inc<N extends MetricName>(name: N, labels: Labels<N>, by = 1): void {
    this.reports.push({ op: 'inc', name, labels: { ...labels }, value: by });
  }
  set<N extends MetricName>(name: N, labels: Labels<N>, value: number): void {
    this.reports.push({ op: 'set', name, labels: { ...labels }, value });
  }
  observe<N extends MetricName>(name: N, labels: Labels<N>, value: number): void {
    this.reports.push({ op: 'observe', name, labels: { ...labels }, value });
  }

  /** The sum of the counter's increments whose labels include `labels`. */
  total(name: MetricName, labels: Record<string, string> = {}): number {
    return this.matching(name, labels).reduce((a, r) => a + r.value, 0);
  }

  /** The reports of `name` whose labels include `labels`. */
  matching(name: MetricName, labels: Record<string, string> = {}): Report[] {
    return this.reports.filter((r) => r.name === name && Object.entries(labels).every(([k, v]) => r.labels[k] === v));
  }
}
