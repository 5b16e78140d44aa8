/** Transport factories by target kind; plugins register theirs, front ends ask for a target. */
import { SfmError } from '../errors.js';
import type { DeviceTarget, Transport, TransportFactory } from './transport.js';

/** A target of a kind no loaded transport reaches (a deployment without transport-serial, say). */
export class UnsupportedTarget extends SfmError {
  override name = 'UnsupportedTarget';
  constructor(message: string) {
    super('INVALID_REQUEST', message);
  }
}

export class TransportRegistry {
  private readonly factories = new Map<DeviceTarget['kind'], TransportFactory>();

  /** `wrap` is applied to every transport made (a capture recording each session, say). */
  constructor(private readonly wrap: (t: Transport) => Transport = (t) => t) {}

  register(factory: TransportFactory): this {
    this.factories.set(factory.kind, factory);
    return this;
  }

  has(kind: DeviceTarget['kind']): boolean {
    return this.factories.has(kind);
  }

  create(target: DeviceTarget): Transport {
    const f = this.factories.get(target.kind);
    if (!f) throw new UnsupportedTarget(`this deployment reaches no ${target.kind} units (the transport-${target.kind} plugin is not loaded)`);
    return this.wrap(f.create(target));
  }
}
