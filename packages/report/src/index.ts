/** @sfm/report: the one-page PDF event report (analysis.md §3). */
export { renderReport, type ReportEvent, type ReportInput, type ReportUnit } from './report.js';
export { decimateMinMax, type Polyline } from './decimate.js';
export { deviceEventReport, type DeviceReportOptions } from './device.js';
export { archivedEventReport, type ArchiveReportSource } from './archived.js';
