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

// --- How a capture checks each convention ---------------------------------------------------------
/**
 * Every convention above that a capture of a real unit can confirm or contradict: what sfm
 * assumes, the constants that hold it, and its check — which frames exercise it and what agreeing
 * means. `sfm decode --check` judges each (convention-check.ts, one judge per id).
 */
export const CONVENTIONS = {
  'poll-reply': {
    title: 'POLL (5B → A4)',
    sfm: 'read-style two-step, DATA_LEN 0x0A; the reply content is "S3" and zeros',
    constants: ['POLL_DATA_LENGTH', 'POLL_REPLY_MAGIC'],
    check: { frames: 'POLL data requests and their A4 replies', agrees: 'the request asks for 0x0A bytes and the reply carries "S3" and zeros' },
  },
  'full-config': {
    title: 'full config (01 → FE)',
    sfm: 'firmware ASCII at 0 (16), DSP version at 16 (8), calibration date (timestamp) at 24',
    constants: ['FULL_CONFIG'],
    check: { frames: 'FE replies with the 152-byte block', agrees: 'printable text (NUL-padded) in both slots and a calendar date at 24' },
  },
  'monitor-commands': {
    title: 'start / stop monitoring (96 / 97)',
    sfm: 'read-style, offset 0, token FE at params[7]; the ack is the 11-byte echo',
    constants: ['MONITOR_COMMAND_TOKEN_INDEX'],
    check: { frames: '96 / 97 requests and their 69 / 68 replies', agrees: 'offset 0 with only the token FE at params[7], and a reply of the echo alone' },
  },
  'write-acks': {
    title: 'write acks',
    sfm: 'the reply to a write is SUB 0xFF − SUB with the 11-byte echo and no content',
    constants: ['echoHeader (frames.ts)', 'UnitSession.answerWrite (simulator)'],
    check: { frames: 'replies to write-style requests (68–83, 7E/7F)', agrees: 'each reply\'s data is the 11-byte echo alone' },
  },
  'write-offset': {
    title: 'write frames\' offset word',
    sfm: 'data length − 1 (0 without data)',
    constants: ['writeOffsetFor (frames.ts)'],
    check: { frames: 'write-style requests', agrees: 'the data length the offset word gives ends the frame at its checksum (the checksum matches)' },
  },
  'key-reply': {
    title: '1E / 1F reply',
    sfm: 'key4, then 4 zero bytes',
    constants: ['encodeEventKeyReply (event-key.ts)'],
    check: { frames: '1E / 1F data replies', agrees: 'the 4 bytes after the key are zeros' },
  },
  'probe-replies': {
    title: 'probe replies',
    sfm: 'the 11-byte echo only, except 0A (header length at data[4]) and 5A (the event\'s first bytes)',
    constants: ['UnitSession.twoStep (simulator)', 'ClientOptions.twoStepReads'],
    check: { frames: 'replies to probes (offset 0) of fixed-length reads', agrees: 'their data is the 11-byte echo alone' },
  },
  'header-full': {
    title: '0A header, full event (0x46)',
    sfm: 'timestamp 0, record type 8, sample rate 9 (u16), total samples 11, pretrigger 15, record time 19 (f32), geo range 23, serial 24',
    constants: ['FULL_HEADER', 'RECORD_TYPE_CODE'],
    check: { frames: '0A data replies of 0x46 bytes', agrees: 'a calendar time at 0, a known record type at 8, a known sample rate at 9, geo range 0 or 1 at 23, printable text at 24' },
  },
  'header-monitor-log': {
    title: '0A header, monitor log (0x2C)',
    sfm: 'start at 0, stop at 8 (or 9 after a gap byte), the serial, then "Geo: <level> in/s"',
    constants: ['PARTIAL_HEADER'],
    check: { frames: '0A data replies of 0x2C bytes', agrees: 'a calendar time at 0 and at 8 or 9, a "BE" serial and a "Geo: … in/s" level' },
  },
  'waveform-record': {
    title: '0C record (210 bytes)',
    sfm: 'timestamp 0, record type 8, labels Tran/Vert/Long/MicL at 32/44/56/68, peak at label + 6',
    constants: ['WAVEFORM_RECORD', 'RECORD_TYPE_CODE'],
    check: { frames: '0C data replies', agrees: 'a calendar time at 0, a known record type at 8 and the four labels at their places' },
  },
  'compliance-layout': {
    title: 'compliance block places (sfm\'s writes)',
    sfm: 'recording block at 0x21, channel blocks at 0x80/0xC0/0x100/0x140, text at 0x400 (decoding searches)',
    constants: ['COMPLIANCE_LAYOUT', 'COMPLIANCE_PAGES', 'TEXT_FIELDS'],
    check: { frames: 'the three 1A data replies of one read', agrees: 'the text starts at 0x400 and every setting is found' },
  },
  'compliance-write': {
    title: 'compliance write sequence',
    sfm: '68→73, 71×3 (params[2] = 00, 04, 08; the read pages)→72, 82→83, 69→74→72',
    constants: ['COMPLIANCE_PAGES'],
    check: { frames: 'the vendor software\'s write requests', agrees: 'the same SUBs in the same order, 71 pages 00/04/08 with the read pages\' lengths' },
  },
  'trigger-block': {
    title: 'trigger block (82, 44 bytes)',
    sfm: 'built from compliance: trigger f32 ×4, geo alarm, mic alarm, sample rate, mode',
    constants: ['TRIGGER_BLOCK'],
    check: { frames: '82 requests', agrees: 'their data is 44 bytes' },
  },
  'bulk-walk': {
    title: '5A walk',
    sfm: 'the probe at the start offset carries the event\'s first 0x600 bytes; whole 0x200 chunks from start + 0x600 while they fit before end_offset; TERM at the residual carries the rest',
    constants: ['BULK_FIRST_CHUNK', 'BULK_CHUNK_STEP', 'STRT.endOffset'],
    check: { frames: '5A requests and A5 replies of each event read', agrees: 'the counters are the ones bulkPlan gives for the key and the STRT end_offset, and the replies carry 0x600, 0x200 and the residual' },
  },
  'bulk-pages': {
    title: '5A pages',
    sfm: '0x1002 = the event-time project text, 0x1004 = serial (8) + firmware (16)',
    constants: ['BULK_PAGE_TEXT', 'BULK_PAGE_UNIT', 'UNIT_PAGE', 'TEXT_PAGE_LENGTH'],
    check: { frames: 'replies to the two page requests', agrees: 'page 0x1002 holds the text keys, page 0x1004 a printable serial and firmware' },
  },
  'bulk-term': {
    title: '5A TERM',
    sfm: 'offset 0x005A, params 00 ‖ key4[0:2] ‖ residual counter ‖ zeros (10); its reply has page 0',
    constants: ['BULK_TERM_PAGE'],
    check: { frames: 'TERM requests and their replies', agrees: '10 params carrying the key\'s first half, and a reply with page 0' },
  },
  'bulk-reply-page': {
    title: 'A5 replies\' page word',
    sfm: 'the request\'s offset word (0x1004); 0 for TERM',
    constants: ['BULK_TERM_PAGE'],
    check: { frames: 'A5 replies to probe, page and chunk requests', agrees: 'their page word is 0x1004' },
  },
  'strt-record': {
    title: 'STRT record',
    sfm: '"STRT", sample rate at 4, total samples 8, record time 10, end_offset 12, pretrigger 16, 0x46 at 18, then 00 00 FF FF FF FF',
    constants: ['STRT', 'STRT_PREAMBLE'],
    check: { frames: '5A probe replies', agrees: '"STRT", 0x46 at 18, a known sample rate at 4, record time × rate = total samples, end_offset past the record, and the preamble after it' },
  },
  'event-footer': {
    title: 'event memory footer',
    sfm: '26 bytes starting "END\\0" after the waveform body',
    constants: ['EVENT_FILE_FOOTER_LENGTH', 'EVENT_FILE_FOOTER_MAGIC'],
    check: { frames: 'whole downloads (probe, every chunk, TERM)', agrees: 'the event\'s last 26 bytes start "END\\0"' },
  },
  'stray-end-byte': {
    title: 'stray byte after the last chunk',
    sfm: 'one byte, 0x00',
    constants: ['BULK_STRAY_END_BYTE'],
    check: { frames: 'what the unit sends after its reply to the last chunk', agrees: 'exactly one byte, 0x00' },
  },
  'segment-counter': {
    title: 'waveform segment counter start',
    sfm: 'the header that begins segment g carries g, so the first carries 1',
    constants: ['SEGMENT_COUNTER'],
    check: { frames: 'whole downloads', agrees: 'the first segment header\'s counter is 1' },
  },
  'call-home-layout': {
    title: 'call-home block (2C → D3)',
    sfm: 'the notes\' field map in logical bytes: flags at 5, 87, 91, 93, 95; dial string 6 (40); times at 101/102 and 105/106; retries 117, interval 119, wait 121, warm-up 123; the 7E write adds 00 00',
    constants: ['CALL_HOME', 'CALL_HOME_WRITE_TRAILER'],
    check: { frames: 'D3 data replies, and 7E writes', agrees: 'each flag is 0 or 1, the dial string is NUL-padded text, the times are hours and minutes; a 7E write carries the block and 00 00' },
  },
  'poll-before-5a': {
    title: 'POLL ×3 before 5A',
    sfm: 'three POLL probes between the 1F arm and the 5A probe',
    constants: ['MiniMateClient.openBulk (client)'],
    check: { frames: 'the host\'s requests between a 1F arm and the 5A probe', agrees: 'three POLL probes and nothing else' },
  },
} as const;
export type ConventionId = keyof typeof CONVENTIONS;
