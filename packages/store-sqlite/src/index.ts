/** @sfm/store-sqlite — the persistent cache Store on better-sqlite3. */
export * from './sqlite-store.js';
export { MIGRATIONS, SCHEMA_VERSION, checkSchemaVersion, migrate, type Migration } from './schema.js';
export { WAVEFORM_BLOB_HEADER_BYTES, decodeWaveformBlob, encodeWaveformBlob } from './waveform-blob.js';
export * from './plugin.js';
