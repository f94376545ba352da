import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout is reserved for command output).
 * Known secret-bearing keys are redacted wherever they appear.
 */
export function createLogger(opts: { level?: string; name?: string; destination?: number } = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'falconer',
      level: opts.level ?? process.env.FALCONER_LOG_LEVEL ?? 'info',
      redact: {
        paths: ['*.token', '*.password', '*.apiKey', '*.authorization', 'req.headers.authorization'],
        censor: '[redacted]',
      },
      base: { pid: process.pid },
    },
    pino.destination({ fd: opts.destination ?? 2, sync: false }),
  );
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
