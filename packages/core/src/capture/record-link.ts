/**
 * Recording what crosses a Link: every byte the host writes and the unit sends, into a capture
 * session, untouched. `capturingTransport` records each session a transport opens (the CLI's
 * `--capture FILE`); `captureLink` wraps one open link (a call-home session, say).
 */
import { connectionKey, type Link, type Transport } from '../transport/transport.js';
import type { CaptureSession, CaptureWriter } from './writer.js';

/** The link, recorded into `session`; the session ends when the link does. */
export function captureLink(link: Link, session: CaptureSession): Link {
  let ended = false;
  const end = (error?: Error): void => {
    if (ended) return;
    ended = true;
    session.end(error ? { closed_by: 'device', error: error.message } : { closed_by: 'host' });
  };
  return {
    get isOpen() {
      return link.isOpen;
    },
    write(bytes) {
      session.host(bytes);
      return link.write(bytes);
    },
    setReceiver(receiver) {
      link.setReceiver({
        data(chunk) {
          session.device(chunk);
          receiver.data(chunk);
        },
        closed(error) {
          end(error);
          receiver.closed(error);
        },
      });
    },
    async close() {
      await link.close();
      end();
    },
  };
}

/**
 * The transport, with each link it opens recorded as a session of `writer` (host: `host`, device:
 * the target's connection key). A connection that fails is a session that ends with its error.
 */
export function capturingTransport(inner: Transport, writer: CaptureWriter, host = 'sfm'): Transport {
  return {
    target: inner.target,
    async open(opts) {
      const device = connectionKey(inner.target);
      let link: Link;
      try {
        link = await inner.open(opts);
      } catch (e) {
        writer.startSession({ host, device }).end({ closed_by: 'device', error: (e as Error).message });
        throw e;
      }
      return captureLink(link, writer.startSession({ host, device }));
    },
  };
}
