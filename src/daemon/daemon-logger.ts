import { pino, type Logger as Pino } from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { Logger } from '../ports/logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * The daemon's structured logs: JSON lines on stderr (one object per line: level, time, msg and
 * the fields), or a readable form when stderr is a terminal. Written synchronously, so the last
 * lines before an exit are never lost. stdout carries only the `listening on` line.
 */
export function createDaemonLogger(options: { level?: LogLevel; pretty: boolean; name?: string }): Logger & { readonly pino: Pino } {
  const base = { level: options.level ?? 'info', name: options.name ?? 'holdfast' };
  const log = options.pretty
    ? pino(base, PinoPretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname' }))
    : pino(base, pino.destination({ fd: 2, sync: true }));
  const at =
    (level: LogLevel) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (fields) log[level](serialisable(fields), message);
      else log[level](message);
    };
  return { pino: log, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Errors become `{ name, code, message }` (pino would otherwise print `{}` for a nested one). */
function serialisable(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields))
    out[name] = value instanceof Error ? { name: value.name, code: (value as { code?: unknown }).code, message: value.message } : value;
  return out;
}
