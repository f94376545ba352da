import { FalconerError } from '../errors.ts';
import { EmbeddedBus, type EmbeddedBusOptions } from './embedded.ts';
import type { EventBus } from './types.ts';

/** Options every bus kind understands; kind-specific settings live under their own key. */
export interface BusOptions {
  readonly embedded?: Partial<EmbeddedBusOptions>;
}

export type BusFactory = <T>(opts: BusOptions) => EventBus<T>;

const factories = new Map<string, BusFactory>([
  ['embedded', <T>(opts: BusOptions) => new EmbeddedBus<T>(opts.embedded)],
]);

export function registerBus(kind: string, factory: BusFactory): void {
  factories.set(kind, factory);
}

export function busKinds(): string[] {
  return [...factories.keys()];
}

export function createBus<T>(kind: string, opts: BusOptions = {}): EventBus<T> {
  const factory = factories.get(kind);
  if (!factory) {
    throw new FalconerError(
      'CONFIG_INVALID',
      `unknown bus kind "${kind}" (known: ${busKinds().join(', ')})`,
      {
        kind,
      },
    );
  }
  return factory<T>(opts);
}
