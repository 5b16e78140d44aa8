/** Counters of what the simulated unit saw and did; one recorder per server, shared by its sessions. */

export interface SimulatorStats {
  /** Request frames with a good checksum, per request SUB (upper-case hex: "5B", "0A", …). */
  framesBySub: Record<string, number>;
  framesReceived: number;
  bytesIn: number;
  bytesOut: number;
  connectionsTotal: number;
  sessionsActive: number;
  maxConcurrentSessions: number;
  /** Requests answered with a reply frame. */
  roundTrips: number;
  /** Good-checksum requests the unit stayed silent on (unknown, out of sequence, stalled). */
  unanswered: number;
  /** Request frames with a bad checksum (never answered). */
  badChecksums: number;
  /** `41 03` session resets (never answered). */
  sessionResets: number;
  /** Broken request candidates the parser dropped (wrong terminator, over-long, …). */
  parseErrors: number;
  /** Bytes outside frames. */
  noiseBytes: number;
  /** Requests the unit could not answer because of its own state (counted in `unanswered` too). */
  internalErrors: number;
  /** Bytes the unit did not hear because it was still waking up after the connection opened. */
  bytesWhileAsleep: number;
  /** Calls home the unit placed, and those that did not connect. */
  callsPlaced: number;
  callsFailed: number;
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

export class StatsRecorder {
  private s: SimulatorStats = StatsRecorder.empty(0);

  private static empty(active: number): SimulatorStats {
    return {
      framesBySub: {}, framesReceived: 0, bytesIn: 0, bytesOut: 0, connectionsTotal: 0, sessionsActive: active,
      maxConcurrentSessions: active, roundTrips: 0, unanswered: 0, badChecksums: 0, sessionResets: 0, parseErrors: 0,
      noiseBytes: 0, internalErrors: 0, bytesWhileAsleep: 0, callsPlaced: 0, callsFailed: 0,
    };
  }

  /** A copy of the counters. */
  snapshot(): SimulatorStats {
    return { ...this.s, framesBySub: { ...this.s.framesBySub } };
  }

  /** Zeroes every counter; the sessions open now stay counted as active (and as the new maximum). */
  reset(): void {
    this.s = StatsRecorder.empty(this.s.sessionsActive);
  }

  frame(sub: number): void {
    const k = hex2(sub);
    this.s.framesBySub[k] = (this.s.framesBySub[k] ?? 0) + 1;
    this.s.framesReceived++;
  }
  bytesIn(n: number): void {
    this.s.bytesIn += n;
  }
  bytesOut(n: number): void {
    this.s.bytesOut += n;
  }
  sessionOpened(): void {
    this.s.connectionsTotal++;
    this.s.sessionsActive++;
    this.s.maxConcurrentSessions = Math.max(this.s.maxConcurrentSessions, this.s.sessionsActive);
  }
  callPlaced(): void {
    this.s.callsPlaced++;
  }
  callFailed(): void {
    this.s.callsFailed++;
  }
  sessionClosed(): void {
    this.s.sessionsActive = Math.max(0, this.s.sessionsActive - 1);
  }
  answered(): void {
    this.s.roundTrips++;
  }
  unanswered(): void {
    this.s.unanswered++;
  }
  badChecksum(): void {
    this.s.badChecksums++;
  }
  sessionReset(): void {
    this.s.sessionResets++;
  }
  parseError(): void {
    this.s.parseErrors++;
  }
  internalError(): void {
    this.s.internalErrors++;
  }
  noise(n: number): void {
    this.s.noiseBytes += n;
  }
  asleep(n: number): void {
    this.s.bytesWhileAsleep += n;
  }
}
