/**
 * A caller's budgets on its link. A unit's modem may send its RING/CONNECT text and the unit its
 * boot banner before the first frame; anything beyond `preambleBytes` before a frame is garbage
 * (a port scanner, an HTTP client, a line full of noise). A call also has a byte budget and a time
 * budget in all. Past one, the link ends with an error that names it: the session ends at its
 * next step and the socket is closed.
 */
import { DeviceTimeout, ProtocolError } from '@sfm/core/client';
import { DeviceFrameParser } from '@sfm/core/protocol';
import type { Link, LinkReceiver } from '@sfm/core/transport';

export interface LinkBudget {
  preambleBytes: number;
  callBytes: number;
  callMaxMs: number;
  /** Names the caller in messages. */
  describe: string;
}

export function budgetedLink(inner: Link, budget: LinkBudget): Link {
  let receiver: LinkReceiver | null = null;
  let ended: Error | null = null;
  /** Until the first good frame, incoming bytes are parsed here to find it. */
  let parser: DeviceFrameParser | null = new DeviceFrameParser();
  let preamble = 0;
  let total = 0;

  const cut = (error: Error): void => {
    if (ended) return;
    ended = error;
    clearTimeout(timer);
    receiver?.closed(error);
    void inner.close();
  };
  const timer = setTimeout(() => cut(new DeviceTimeout(`${budget.describe}: the call lasted longer than ${budget.callMaxMs / 1000} s: dropped`)), budget.callMaxMs);
  timer.unref();

  return {
    get isOpen() {
      return !ended && inner.isOpen;
    },
    write: (bytes) => (ended ? Promise.reject(ended) : inner.write(bytes)),
    close: async () => {
      clearTimeout(timer);
      await inner.close();
    },
    setReceiver(r) {
      receiver = r;
      inner.setReceiver({
        data(chunk) {
          if (ended) return;
          total += chunk.length;
          if (total > budget.callBytes) return cut(new ProtocolError(`${budget.describe}: more than ${budget.callBytes} bytes in one call: dropped`));
          if (parser) {
            if (parser.push(chunk).some((item) => item.kind === 'frame' && item.frame.checksumOk)) parser = null;
            else if ((preamble += chunk.length) > budget.preambleBytes) {
              return cut(new ProtocolError(`${budget.describe}: ${preamble} bytes and no frame (more than the ${budget.preambleBytes} a modem and a boot banner send): garbage, dropped`));
            }
          }
          r.data(chunk);
        },
        closed(error) {
          clearTimeout(timer);
          if (ended) return;
          ended = error ?? new Error('closed');
          r.closed(error);
        },
      });
    },
  };
}
