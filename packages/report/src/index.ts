/** @sfm/report: the one-page PDF event report. */
export { renderEventReport, type EventReportInput } from './report.js';
export { decimateMinMax, type Polyline } from './decimate.js';
