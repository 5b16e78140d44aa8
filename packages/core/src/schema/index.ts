/** @sfm/core/schema — the contract's shapes, declared once, and the checks built from them. */
export * from './shapes.js';
export * from './check.js';
export type { Static, TSchema, TObject } from '@sinclair/typebox';
export * from './requests.js';
export * from './compliance-rules.js';
