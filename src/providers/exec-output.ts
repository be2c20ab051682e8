import type { Json } from '../model/index.js';
import type { ProviderChunk } from '../ports/provider.js';
import { lineReader } from '../platform/line-reader.js';

/**
 * Turns a provider child's stdout into streamed chunks and the turn's result.
 *
 * - `text`: every piece of stdout is streamed as a `text` chunk as it arrives (split wherever the
 *   OS split it); the result is the whole stdout with trailing whitespace (the final newline)
 *   removed.
 * - `jsonl`: stdout is split into lines; each non-blank line that parses as JSON is streamed as a
 *   `json` chunk, any other non-blank line as a `text` chunk. The result is the last line whose value
 *   is an object with `"type": "result"` (the shape agent CLIs' stream-json output ends with), or
 *   else the last JSON line, or `null` if there was none.
 */
export interface StdoutCollector {
  push(text: string): void;
  /** Call at EOF; flushes a final unterminated line. */
  end(): void;
  result(): Json;
}

export function textCollector(emit: (chunk: ProviderChunk) => void): StdoutCollector {
  let all = '';
  return {
    push(text) {
      all += text;
      emit({ kind: 'text', data: text });
    },
    end() {},
    result: () => all.trimEnd(),
  };
}

export function jsonlCollector(emit: (chunk: ProviderChunk) => void): StdoutCollector {
  let last: Json | undefined;
  let lastResult: Json | undefined;
  const line = (raw: string) => {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return;
    let value: Json;
    try {
      value = JSON.parse(text) as Json;
    } catch {
      emit({ kind: 'text', data: text });
      return;
    }
    last = value;
    if (isResultLine(value)) lastResult = value;
    emit({ kind: 'json', data: value });
  };
  const lines = lineReader(line);
  return {
    push: (text) => lines.push(text),
    end: () => lines.end(),
    result: () => lastResult ?? last ?? null,
  };
}

function isResultLine(value: Json): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && value['type'] === 'result';
}

/** Keeps the last `max` characters of a stream (stderr), for error messages. */
export class TailBuffer {
  private text = '';
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.max * 2) this.text = this.text.slice(-this.max);
  }
  toString(): string {
    return this.text.length > this.max ? this.text.slice(-this.max) : this.text;
  }
}
