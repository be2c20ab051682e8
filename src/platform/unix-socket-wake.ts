import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WakeListener, WakeMessage, WakeTransport } from '../ports/wake.js';
import { lineReader } from './line-reader.js';

/** Unix socket paths are limited to about 107 bytes; longer directories fall back to the temp dir. */
const MAX_SOCKET_PATH = 100;

/**
 * Wake-up over unix domain sockets: each kernel listens on `hf-wake-<pid>-<random>.sock` in `dir`
 * (next to its SQLite file) and a submitter connects, writes one JSON line, and hangs up. The socket
 * file is removed on close; a stale one left by a killed process just refuses connections.
 */
export function unixSocketWake(options: { readonly dir: string; readonly sendTimeoutMs?: number }): WakeTransport {
  const sendTimeoutMs = options.sendTimeoutMs ?? 1_000;
  return {
    async listen(onMessage) {
      const name = `hf-wake-${process.pid}-${randomBytes(4).toString('hex')}.sock`;
      const preferred = join(options.dir, name);
      const address = Buffer.byteLength(preferred) <= MAX_SOCKET_PATH ? preferred : join(tmpdir(), name);
      const server = createServer((socket) => {
        const lines = lineReader((line) => {
          const message = parseWakeMessage(line);
          if (message) onMessage(message);
        });
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => lines.push(chunk));
        socket.on('error', () => socket.destroy());
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(address, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.unref();
      const listener: WakeListener = {
        address,
        close: () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            rmSync(address, { force: true });
          }),
      };
      return listener;
    },
    send(address, message) {
      return new Promise<boolean>((resolve) => {
        const socket = createConnection(address);
        socket.setTimeout(sendTimeoutMs, () => socket.destroy());
        socket.once('error', () => resolve(false));
        socket.once('connect', () => socket.end(`${JSON.stringify(message)}\n`));
        socket.once('close', (hadError) => resolve(!hadError));
      });
    },
  };
}

/** A wake message, or undefined for anything malformed (ignored, never acted on). */
export function parseWakeMessage(line: string): WakeMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const m = value as Record<string, unknown>;
  if (typeof m.key !== 'string' || m.key === '') return undefined;
  if (m.type === 'wake') return { type: 'wake', key: m.key, urgent: m.urgent === true };
  if (m.type === 'cancel' && typeof m.runId === 'string') return { type: 'cancel', key: m.key, runId: m.runId };
  return undefined;
}
