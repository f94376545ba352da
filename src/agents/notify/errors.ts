/** Error codes of the notify agent. */
declare module '../../errors.ts' {
  interface ErrorCodeRegistry {
    NOTIFY_SINK_FAILED: true;
    NOTIFY_QUEUE_FULL: true;
    NOTIFY_CONFIG: true;
    NOTIFY_CLOSED: true;
    NOTIFY_INPUT_INVALID: true;
  }
}
export {};
