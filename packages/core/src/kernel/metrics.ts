/**
 * sfm's own metrics, declared once: what is counted, its labels and help text. Core and the
 * adapters report through the `Metrics` interface; a metrics plugin (metrics-prometheus) keeps
 * and exposes them. Without one, reports go nowhere (`silentMetrics`).
 */

export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  kind: MetricKind;
  help: string;
  labels: readonly string[];
  /** Histogram bucket bounds, in the metric's unit. */
  buckets?: readonly number[];
}

const SECONDS_FAST = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Device work over a modem takes seconds to minutes. */
const SECONDS_DEVICE = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export const METRICS = {
  sfm_http_requests_total: { kind: 'counter', help: 'HTTP requests answered, by route (its path template), method and status', labels: ['route', 'method', 'status'] },
  sfm_http_request_duration_seconds: { kind: 'histogram', help: 'Time to answer an HTTP request, by route', labels: ['route'], buckets: SECONDS_FAST },
  sfm_cache_requests_total: { kind: 'counter', help: 'Cached reads by kind and outcome (hit, miss, refresh, stale, uncached)', labels: ['kind', 'outcome'] },
  sfm_device_sessions_total: { kind: 'counter', help: 'Sessions with a unit, by unit (its connection key) and result (ok or an error code)', labels: ['unit', 'result'] },
  sfm_device_session_duration_seconds: { kind: 'histogram', help: 'Length of a session with a unit, lock waits excluded', labels: ['unit'], buckets: SECONDS_DEVICE },
  sfm_device_round_trips_total: { kind: 'counter', help: 'Request/response exchanges with a unit', labels: ['unit'] },
  sfm_device_bytes_total: { kind: 'counter', help: 'Bytes on the link to a unit, by direction (sent to it, received from it)', labels: ['unit', 'direction'] },
  sfm_device_queue_depth: { kind: 'gauge', help: 'Requests running or waiting for a unit', labels: ['unit'] },
  sfm_device_queue_wait_seconds: { kind: 'histogram', help: 'Time a request waited for its unit (queue and locks) before its session', labels: ['unit'], buckets: SECONDS_DEVICE },
  sfm_ach_sessions_total: { kind: 'counter', help: 'Calls units made to the call-home listener, by result: ok, or the code that ended it (TARGET_NOT_ALLOWED for a refused peer or unit, DEVICE_BUSY beyond the calls allowed at once)', labels: ['result'] },
  sfm_store_errors_total: { kind: 'counter', help: 'Store operations that failed (the store could not read or write), by what was being done', labels: ['operation'] },
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof METRICS;
export type Labels<N extends MetricName> = Record<(typeof METRICS)[N]['labels'][number], string>;

export interface Metrics {
  /** Adds to a counter (default 1). */
  inc<N extends MetricName>(name: N, labels: Labels<N>, by?: number): void;
  /** Sets a gauge. */
  set<N extends MetricName>(name: N, labels: Labels<N>, value: number): void;
  /** Records one observation of a histogram. */
  observe<N extends MetricName>(name: N, labels: Labels<N>, value: number): void;
  /** The exposition (`GET /metrics`); absent when nothing keeps the metrics. */
  render?(): Promise<{ contentType: string; body: string }>;
}

/** Reports that go nowhere: no metrics plugin is loaded. */
export const silentMetrics: Metrics = {
  inc() {},
  set() {},
  observe() {},
};
