/** Error codes of the Kafka bus (module augmentation, see src/errors.ts). */
declare module '../errors.ts' {
  interface ErrorCodeRegistry {
    /** No broker of the bootstrap list answered within bus.kafka.connectTimeoutMs. */
    KAFKA_UNREACHABLE: true;
    /** A topic Falconer needs is missing and bus.kafka.createTopics is false. */
    KAFKA_TOPIC_MISSING: true;
    /** The broker refused to create a topic, or a topic cannot be used as configured. */
    KAFKA_TOPIC_INVALID: true;
    /** A TLS or SASL file named in bus.kafka cannot be read. */
    KAFKA_CONFIG_FILE: true;
    /** The bus is used before start() or after close(). */
    KAFKA_NOT_STARTED: true;
  }
}

export {};
