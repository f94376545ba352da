/** The part of a pino logger the Kafka bus uses (so tests and tools can pass a small one). */
export interface KafkaLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentKafkaLog: KafkaLog = { info: () => {}, warn: () => {}, error: () => {} };
