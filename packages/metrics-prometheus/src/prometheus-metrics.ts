/**
 * Core's metrics (METRICS in @sfm/core/kernel, each declared once) kept in a prom-client registry
 * of their own, with prom-client's process metrics (`process_*`, `nodejs_*`), rendered in the
 * Prometheus text format for `GET /metrics`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { METRICS, type Labels, type MetricName, type Metrics } from '@sfm/core/kernel';

type Instrument = Counter<string> | Gauge<string> | Histogram<string>;

export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly instruments = new Map<MetricName, Instrument>();

  constructor(opts: { processMetrics?: boolean } = {}) {
    for (const [name, spec] of Object.entries(METRICS) as [MetricName, (typeof METRICS)[MetricName]][]) {
      const common = { name, help: spec.help, labelNames: [...spec.labels], registers: [this.registry] };
      this.instruments.set(
        name,
        spec.kind === 'counter' ? new Counter(common) : spec.kind === 'gauge' ? new Gauge(common) : new Histogram({ ...common, buckets: [...('buckets' in spec ? spec.buckets : [])] }),
      );
    }
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  inc<N extends MetricName>(name: N, labels: Labels<N>, by = 1): void {
    if (by > 0) (this.instruments.get(name) as Counter<string>).inc(labels as Record<string, string>, by);
  }

  set<N extends MetricName>(name: N, labels: Labels<N>, value: number): void {
    (this.instruments.get(name) as Gauge<string>).set(labels as Record<string, string>, value);
  }

  observe<N extends MetricName>(name: N, labels: Labels<N>, value: number): void {
    (this.instruments.get(name) as Histogram<string>).observe(labels as Record<string, string>, value);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
