/** @sfm/metrics-prometheus — core's metrics in the Prometheus text format. */
export * from './prometheus-metrics.js';
export { plugin } from './plugin.js';
