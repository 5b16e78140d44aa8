/** An in-process pair of connected Duplex streams (Node 20 has no stream.duplexPair). */
import { Duplex } from 'node:stream';

/** Returns [hostEnd, unitEnd]: what one end writes, the other reads. Ending or destroying one ends the other. */
export function duplexPair(): [Duplex, Duplex] {
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        const p = peer();
        if (!p.destroyed) p.push(chunk);
        cb();
      },
      final(cb) {
        const p = peer();
        if (!p.destroyed) p.push(null);
        cb();
      },
      destroy(err, cb) {
        const p = peer();
        if (!p.destroyed) {
          p.push(null);
          p.destroy();
        }
        cb(err);
      },
    });
  let a: Duplex;
  const b = make(() => a);
  a = make(() => b);
  return [a, b];
}
