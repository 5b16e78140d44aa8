/** The metrics-prometheus plugin: core's metrics with prom-client, served by the HTTP adapter at `GET /metrics`. */
import { TOKENS, type SfmPlugin } from '@sfm/core/kernel';
import { PrometheusMetrics } from './prometheus-metrics.js';

export const plugin: SfmPlugin = {
  name: 'metrics-prometheus',
  provides: [TOKENS.Metrics],
  register(ctx) {
    ctx.provide(TOKENS.Metrics, { factory: () => new PrometheusMetrics() });
  },
};
