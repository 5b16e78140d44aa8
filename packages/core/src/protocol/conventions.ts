/**
 * [sfm] Every layout sfm had to define itself because the protocol notes do not know it
 * (protocol.md §0.1 rule 4, §22). Client and emulator both use these, so they agree; a real
 * capture that shows the unit's own layout corrects it here, in one place.
 * docs/protocol-conventions.md lists each item with its reasoning.
 */

// --- POLL (SUB 5B → A4): read-style two-step; the reply content is ours --------------------------
export const POLL_DATA_LENGTH = 0x0a;
/** The POLL reply content: "S3" and zeros. The client only needs a well-formed A4 frame. */
export const POLL_REPLY_MAGIC = [0x53, 0x33] as const;

// --- Full config (SUB 01 → FE, 152 bytes): firmware, DSP version, calibration date offsets ----------
export const FULL_CONFIG = {
  firmware: { offset: 0, width: 16 },
  dspVersion: { offset: 16, width: 8 },
  calibrationDate: { offset: 24 }, // an 8-byte timestamp (§18)
} as const;

// --- Start / stop monitoring (SUB 96 / 97): read-style, offset 0, token FE; ack = echo only ---------
export const MONITOR_COMMAND_TOKEN_INDEX = 7;

// --- Write acks: response SUB 0xFF − SUB, data = the 11-byte echo, no content ----------------------

// --- 1E / 1F: the 4 bytes after the key (data[15:19]) — zeros ------------------------------------

// --- 0A waveform header content -----------------------------------------------------------------
export const HEADER_LENGTH_FULL = 0x46;
export const HEADER_LENGTH_PARTIAL = 0x2c;
/** Full-event header (70 bytes). */
export const FULL_HEADER = {
  timestamp: 0,
  recordType: 8,
  sampleRate: 9, // u16
  totalSamples: 11, // u32, per channel
  pretriggerSamples: 15, // u32
  recordTime: 19, // f32, seconds
  geoRange: 23, // u8: 0 normal, 1 sensitive (the event's, for scaling its waveform)
  serial: 24, // 8 ASCII
} as const;
/**
 * Monitor-log (partial) header (44 bytes), protocol.md §10.4. The notes know its content, not its
 * offsets: the start and stop times next to each other, with one byte between them when both
 * share mm:ss [C]; the serial, found by looking for "BE"; the geophone trigger level, found by
 * looking for "Geo: ". sfm writes them in that order: start, [gap], stop, the serial in an 8-byte
 * NUL-padded slot, then "Geo: " and the level as text ("0.5 in/s") NUL-padded to the end. The
 * decoder finds what it can wherever it is and never needs these offsets but the start time's.
 */
export const PARTIAL_HEADER = {
  startTime: 0,
  /** Where the stop time sits: right after the start time, or one byte later (the gap). */
  stopTime: 8,
  stopTimeAfterGap: 9,
  /** The byte in the gap: 00 reads as day 0, which no timestamp has, so the decoder steps over it. */
  gapByte: 0x00,
  serialWidth: 8,
  serialMark: 'BE',
  geoLabel: 'Geo: ',
  /** The unit the level's text ends with; a level given in another unit is not read as in/s. */
  geoUnit: 'in/s',
} as const;
/** Record type codes used in 0A and 0C. */
export const RECORD_TYPE_CODE = { waveform: 0x01, histogram: 0x02 } as const;

// --- 0C waveform record content (210 bytes) ------------------------------------------------------
export const WAVEFORM_RECORD = {
  timestamp: 0,
  recordType: 8,
  /** Channel labels; each peak (float32 BE) sits at label + 6, the PVS at Tran label − 12. */
  labels: { Tran: 32, Vert: 44, Long: 56, MicL: 68 },
} as const;

// --- Compliance block (2090 bytes): where the encoder places things (the decoder searches) --------
export const COMPLIANCE_LAYOUT = {
  recordingBlock: 0x21, // mode, then sample rate, interval, 00 00, anchor, record time
  channelBlocks: { Tran: 0x80, Vert: 0xc0, Long: 0x100, MicL: 0x140 },
  text: 0x400,
} as const;

/** Text keys and the width of the value slot after each (compliance block and 5A page 0x1002). */
export const TEXT_FIELDS = [
  { field: 'project', key: 'Project:', width: 40 },
  { field: 'client', key: 'Client:', width: 40 },
  { field: 'operator', key: 'User Name:', width: 32 },
  { field: 'sensor_location', key: 'Seis Loc:', width: 40 },
  { field: 'notes', key: 'Extended Notes', width: 128 },
] as const;
/** Distance between the starts of two text slots in the blocks sfm builds. */
export const TEXT_SLOT_STRIDE = 0x40;
export const NOTES_SLOT_STRIDE = 0x90;

// --- Trigger-config block (SUB 82, 44 bytes): built from the compliance config ---------------------
export const TRIGGER_BLOCK = {
  length: 44,
  tranTrigger: 0,
  vertTrigger: 4,
  longTrigger: 8,
  micTrigger: 12,
  geoAlarm: 16,
  micAlarm: 20,
  sampleRate: 24, // u16
  recordingMode: 26,
} as const;

// --- Compliance write (SUB 71 ×3): the pages mirror the reads (params[2] = 0x00, 0x04, 0x08) --------
export const COMPLIANCE_PAGES = [
  { page: 0x00, start: 0x000, length: 0x400 },
  { page: 0x04, start: 0x400, length: 0x400 },
  { page: 0x08, start: 0x800, length: 0x02a },
] as const;
export const COMPLIANCE_LENGTH = 0x082a;

// --- 5A stream -----------------------------------------------------------------------------------
/**
 * An event's memory runs from its start offset (key4[2:4]) to the STRT end_offset, an offset in
 * the same 16-bit space that may run past 0xFFFF (the captured 3-s event at key 01110000 ends at
 * 0x21F2 [C], protocol.md §24). [sfm] Its bytes, in order: the STRT record, the 6-byte preamble,
 * the waveform body, the footer — one contiguous run, so concatenating the replies gives it back.
 *
 * Blastware reads it as: the probe (counter = the start offset itself [C]), the two metadata pages,
 * whole sample chunks of 0x200 from start + 0x600 while they fit before end_offset [C], then TERM
 * for the residual [I]. Nothing is read between the probe and start + 0x600, so [A] the probe's
 * reply carries the event's first 0x600 bytes.
 */
export const BULK_CHUNK_STEP = 0x0200;
/** Where the first sample chunk sits after the event's start offset [C for key 01110000; I for others]. */
export const BULK_FIRST_CHUNK = 0x0600;
/** Counters of the two metadata pages read after the probe (12-byte params). */
export const BULK_PAGE_TEXT = 0x1002;
export const BULK_PAGE_UNIT = 0x1004;
/** The page of an A5 reply is the request's offset word, or 0 for the TERM reply. */
export const BULK_TERM_PAGE = 0x0000;
// TERM: offset 005A, params [0] 0, [1:3] key4[0:2], [3:5] the counter after the last whole chunk
// (where the residual starts: 0x2000 for the captured event); its reply carries the residual.
/** The byte the unit sends after the last chunk (any byte will do; the client skips it). */
export const BULK_STRAY_END_BYTE = 0x00;
/** The event's memory ends with a 26-byte footer after the waveform body. */
export const EVENT_FILE_FOOTER_LENGTH = 26;
export const EVENT_FILE_FOOTER_MAGIC = [0x45, 0x4e, 0x44, 0x00] as const; // "END\0"
/** Page 0x1004 content: the unit's serial (8) and firmware (16). */
export const UNIT_PAGE = { serial: 0, firmware: 8, length: 24 } as const;
export const TEXT_PAGE_LENGTH = 0x200;

/** STRT record (21 bytes) offsets: magic, sample rate, total samples, record time, end offset, pretrigger, marker. */
export const STRT = {
  length: 21,
  sampleRate: 4, // u16 [sfm]
  totalSamples: 8, // u16 [C, early reading]
  recordTime: 10, // u16 seconds [sfm]
  endOffset: 12, // u32: data[23:27] of the probe reply [C]; an offset in key4[2:4]'s space [C for key 01110000]
  pretriggerSamples: 16, // u16 [C, early reading]
  marker: 18, // 0x46 [C]
} as const;
/** The 6 bytes between STRT and the body in the event file. */
export const STRT_PREAMBLE = [0x00, 0x00, 0xff, 0xff, 0xff, 0xff] as const;

// --- Waveform body: the `40 02` segment header's counter --------------------------------------------
/**
 * Each segment header carries a u32 little-endian counter at bytes [8:12] after its tag that rises
 * by one per segment [C] (protocol.md §24). [sfm] Where it starts: the header that begins segment
 * g carries g (the preamble begins segment 0, so the first header carries 1).
 */
export const SEGMENT_COUNTER = { offset: 8, first: 1 } as const;

// --- Call-home block (SUB 2C, 124 logical bytes) ---------------------------------------------------
export const CALL_HOME = {
  length: 0x7c,
  enabled: 5,
  dialString: 6,
  dialStringWidth: 40,
  afterEventRecorded: 87,
  atSpecifiedTimes: 91,
  time1Enabled: 93,
  time2Enabled: 95,
  time1Hour: 101,
  time1Minute: 102,
  time2Hour: 105,
  time2Minute: 106,
  numRetries: 117,
  retryInterval: 119,
  waitForConnection: 121,
  warmUpTime: 123,
} as const;
/** The call-home write (7E) carries the block as read off the wire plus two zero bytes. */
export const CALL_HOME_WRITE_TRAILER = [0x00, 0x00] as const;
