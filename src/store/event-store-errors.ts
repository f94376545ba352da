/** Error codes of the event store. */
declare module '../errors.ts' {
  interface ErrorCodeRegistry {
    EVENT_STORE_CONFIG: true;
  }
}
export {};
