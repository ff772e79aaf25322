import { type DestinationStream, pino, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

/**
 * JSON logs on stdout. Headers never reach a log line (they carry tokens), and errors are
 * logged as name, code and message: no stacks, which can hold request data.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'flatpeak-graph' },
    redact: { paths: ['*.authorization', '*.headers', 'headers', 'apiKey', '*.apiKey', 'token', '*.token'], remove: true },
    serializers: { err: describeError },
  };
  return destination ? pino(options, destination) : pino(options);
}

export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message };
}
