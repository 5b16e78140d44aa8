/** Transport factories by target kind; plugins register theirs, front ends ask for a target. */
import type { DeviceTarget, Transport, TransportFactory } from './transport.js';

export class TransportRegistry {
  private readonly factories = new Map<DeviceTarget['kind'], TransportFactory>();

  register(factory: TransportFactory): this {
    this.factories.set(factory.kind, factory);
    return this;
  }

  has(kind: DeviceTarget['kind']): boolean {
    return this.factories.has(kind);
  }

  create(target: DeviceTarget): Transport {
    const f = this.factories.get(target.kind);
    if (!f) throw new Error(`no ${target.kind} transport is loaded (add the transport-${target.kind} plugin)`);
    return f.create(target);
  }
}
