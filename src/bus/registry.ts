/**
 * Bus kinds by name. A kind's implementation is loaded when a bus of that
 * kind is created, not when this module is: the Kafka client alone costs
 * about a CPU-second to load, which every agent start paid while only detect
 * with `bus.kind: kafka` uses it.
 */
import { FalconerError } from '../errors.ts';
import { EmbeddedBus, type EmbeddedBusOptions } from './embedded.ts';
import type { KafkaBusOptions } from './kafka.ts';
import type { EventBus } from './types.ts';

/** Options every bus kind understands; kind-specific settings live under their own key. */
export interface BusOptions {
  readonly embedded?: Partial<EmbeddedBusOptions>;
  /** Required for kind "kafka": the bus.kafka config block and the record codec. */
  readonly kafka?: KafkaBusOptions<unknown>;
}

export type BusFactory = <T>(opts: BusOptions) => EventBus<T> | Promise<EventBus<T>>;

const factories = new Map<string, BusFactory>([
  ['embedded', <T>(opts: BusOptions) => new EmbeddedBus<T>(opts.embedded)],
  [
    'kafka',
    async <T>(opts: BusOptions) => {
      if (opts.kafka === undefined) {
        throw new FalconerError(
          'CONFIG_INVALID',
          'bus kind "kafka" needs the bus.kafka settings (brokers…)',
          {
            kind: 'kafka',
          },
        );
      }
      const { KafkaBus } = await import('./kafka.ts');
      // The codec decides T; the registry only passes it through.
      return new KafkaBus<T>(opts.kafka as KafkaBusOptions<T>);
    },
  ],
]);

export function registerBus(kind: string, factory: BusFactory): void {
  factories.set(kind, factory);
}

export function busKinds(): string[] {
  return [...factories.keys()];
}

/** Creates a bus of the kind, loading its implementation on first use. */
export async function createBus<T>(kind: string, opts: BusOptions = {}): Promise<EventBus<T>> {
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
