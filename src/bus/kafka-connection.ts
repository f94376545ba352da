/**
 * bus.kafka → the connection options of @platformatic/kafka clients: TLS files
 * and the SASL password file are read here, once, at start.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { BaseOptions } from '@platformatic/kafka';
import { FalconerError } from '../errors.ts';
import './kafka-errors.ts';
import type { KafkaBusConfig } from './kafka-config.ts';

function readConfigFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    // The path is configuration, not a secret; the content never goes into the message.
    throw new FalconerError('KAFKA_CONFIG_FILE', `cannot read bus.kafka ${what} file ${path}: ${reason}`, {
      path,
      what,
    });
  }
}

/** Options shared by the producer, the consumers and the admin client of one bus. */
export function clientOptions(config: KafkaBusConfig, role: string): BaseOptions {
  const base: BaseOptions = {
    clientId: `${config.clientId}-${role}`,
    bootstrapBrokers: config.brokers,
    timeout: config.requestTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    connectTimeout: Math.min(config.requestTimeoutMs, 10_000),
    // The client retries a failed request this often (leader moves, broker restarts) before the bus sees it.
    retries: 10,
    retryDelay: 500,
  };
  const tls = config.tls;
  if (tls !== undefined) {
    const options: ConnectionOptions = { rejectUnauthorized: tls.rejectUnauthorized };
    if (tls.ca !== undefined) options.ca = readConfigFile(tls.ca, 'tls.ca');
    if (tls.cert !== undefined) options.cert = readConfigFile(tls.cert, 'tls.cert');
    if (tls.key !== undefined) options.key = readConfigFile(tls.key, 'tls.key');
    base.tls = options;
    if (tls.servername !== undefined) base.tlsServerName = tls.servername;
  }
  const sasl = config.sasl;
  if (sasl !== undefined) {
    base.sasl = {
      mechanism: sasl.mechanism,
      username: sasl.username,
      password: readConfigFile(sasl.passwordFile, 'sasl.passwordFile').replace(/\r?\n$/, ''),
    };
  }
  return base;
}
