// A horizontal bar chart written as plain SVG text: one row per system, one or more bars per row
// (say p50 and p99), on a linear or a logarithmic axis. A row without a value shows its note.

export interface Bar {
  readonly value: number;
  /** Legend name of the series (same order in every row). */
  readonly series: string;
  /** Text written after the bar; defaults to the value. */
  readonly text?: string;
}
export interface Row {
  readonly label: string;
  readonly bars: readonly Bar[];
  /** Written instead of bars, e.g. "not measured: ...". */
  readonly note?: string;
}
export interface Chart {
  readonly title: string;
  readonly subtitle: string;
  readonly unit: string;
  readonly log?: boolean;
  readonly rows: readonly Row[];
  readonly footnotes?: readonly string[];
}

const COLORS = ['#2f6f9f', '#9cc3e0', '#c96f2d', '#f0b98a'];
const WIDTH = 880;
const LABEL_W = 230;
const PLOT_W = 460;
const BAR_H = 16;
const ROW_GAP = 14;
const TOP = 78;

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function fmt(x: number): string {
  if (x === 0) return '0';
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** Axis from 0 (linear) or a power of ten below the smallest value (log) to a round top. */
function axis(values: number[], log: boolean): { pos: (v: number) => number; ticks: number[] } {
  const max = Math.max(...values, 1e-9);
  if (log) {
    const lo = Math.floor(Math.log10(Math.max(Math.min(...values.filter((v) => v > 0)), 1e-3)));
    const hi = Math.ceil(Math.log10(max));
    const span = Math.max(1, hi - lo);
    const ticks = Array.from({ length: span + 1 }, (_, i) => 10 ** (lo + i));
    return { pos: (v) => (Math.max(0, Math.log10(Math.max(v, 10 ** lo)) - lo) / span) * PLOT_W, ticks };
  }
  const step = 10 ** Math.floor(Math.log10(max));
  const top = Math.ceil(max / step) * step;
  const count = Math.round(top / step);
  const tickStep = count > 6 ? step * 2 : step;
  const ticks = Array.from({ length: Math.floor(top / tickStep) + 1 }, (_, i) => i * tickStep);
  return { pos: (v) => (v / top) * PLOT_W, ticks };
}

export function barChart(chart: Chart): string {
  const values = chart.rows.flatMap((r) => r.bars.map((b) => b.value)).filter((v) => Number.isFinite(v) && v > 0);
  const { pos, ticks } = axis(values.length ? values : [1], chart.log ?? false);
  const series = [...new Set(chart.rows.flatMap((r) => r.bars.map((b) => b.series)))];
  const rowHeight = (r: Row) => Math.max(1, r.note ? 1 : r.bars.length) * BAR_H + ROW_GAP;
  const plotH = chart.rows.reduce((h, r) => h + rowHeight(r), 0);
  const footY = TOP + plotH + 52;
  const height = footY + (chart.footnotes?.length ?? 0) * 16 + 14;
  const x0 = LABEL_W;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">${escape(chart.title)}</text>`,
    `<text x="12" y="40" fill="#444">${escape(chart.subtitle)}</text>`,
  ];
  series.forEach((name, i) => {
    const x = x0 + i * 150;
    out.push(`<rect x="${x}" y="50" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`);
    out.push(`<text x="${x + 16}" y="60">${escape(name)}</text>`);
  });
  for (const t of ticks) {
    const x = x0 + pos(t);
    out.push(`<line x1="${x.toFixed(1)}" y1="${TOP - 4}" x2="${x.toFixed(1)}" y2="${TOP + plotH}" stroke="#e2e2e2"/>`);
    out.push(`<text x="${x.toFixed(1)}" y="${TOP + plotH + 16}" text-anchor="middle" fill="#555">${escape(fmt(t))}</text>`);
  }
  out.push(
    `<text x="${x0 + PLOT_W}" y="${TOP + plotH + 30}" text-anchor="end" fill="#555">${escape(chart.unit)}${chart.log ? ' (log scale)' : ''}</text>`,
  );
  let y = TOP;
  for (const row of chart.rows) {
    const h = rowHeight(row) - ROW_GAP;
    out.push(`<text x="${x0 - 8}" y="${y + h / 2 + 4}" text-anchor="end">${escape(row.label)}</text>`);
    if (row.note) {
      out.push(`<text x="${x0 + 4}" y="${y + h / 2 + 4}" fill="#a33" font-style="italic">${escape(row.note)}</text>`);
    } else {
      row.bars.forEach((bar, i) => {
        const by = y + i * BAR_H;
        const w = Math.max(1, pos(bar.value));
        const color = COLORS[series.indexOf(bar.series) % COLORS.length];
        out.push(`<rect x="${x0}" y="${by + 1}" width="${w.toFixed(1)}" height="${BAR_H - 2}" fill="${color}"/>`);
        out.push(`<text x="${(x0 + w + 5).toFixed(1)}" y="${by + BAR_H - 4}">${escape(bar.text ?? fmt(bar.value))}</text>`);
      });
    }
    y += rowHeight(row);
  }
  out.push(`<line x1="${x0}" y1="${TOP - 4}" x2="${x0}" y2="${TOP + plotH}" stroke="#888"/>`);
  (chart.footnotes ?? []).forEach((note, i) => out.push(`<text x="12" y="${footY + i * 16}" fill="#444">${escape(note)}</text>`));
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
