// Shared helpers of the benchmarks: scratch files, percentiles, formatting.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type SyncLevel = 'FULL' | 'NORMAL';
export const LEVELS: readonly SyncLevel[] = ['FULL', 'NORMAL'];

/** A fresh directory in the OS temp dir; `dispose` removes it with every file in it. */
export function scratch(prefix: string): { dir: string; file: (name: string) => string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `holdfast-bench-${prefix}-`));
  return { dir, file: (name) => join(dir, name), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Nearest-rank percentile of `xs` (0 < p <= 100). */
export function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

export const round = (x: number, digits = 0): number => Number(x.toFixed(digits));
export const int = (x: number): string => Math.round(x).toLocaleString('en-US');

/** Renders rows as a plain text table with right-aligned columns after the first. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
