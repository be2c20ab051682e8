/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests: it throws on anything
 * a Prometheus server would refuse or that hides a bug (a malformed line, a bad escape, a second
 * TYPE or HELP for a family, a family's samples split apart, a sample before its TYPE, a duplicate
 * series, a negative counter, histogram buckets that are not cumulative or disagree with _count).
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string | undefined;
  readonly samples: Sample[];
}

export interface Exposition {
  readonly families: ReadonlyMap<string, MetricFamily>;
  /** The value of the one sample named `name` with exactly `labels`; undefined when there is none. */
  value(name: string, labels?: Readonly<Record<string, string>>): number | undefined;
  /** Every sample named `name`. */
  samples(name: string): Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

/** A family while it is read. */
interface OpenFamily extends MetricFamily {
  type: MetricType;
  help: string | undefined;
  typed: boolean;
  /** Samples of another family came after this one's: it may not have more. */
  closed: boolean;
}

export function parsePrometheusText(text: string): Exposition {
  const families = new Map<string, OpenFamily>();
  const series = new Set<string>();
  let current: string | undefined;
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the exposition must end with a line feed');
  lines.forEach((line, index) => {
    const where = `line ${index + 1} ${JSON.stringify(line)}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!meta) return; // a plain comment
      const [, kind, name, rest] = meta as unknown as [string, 'HELP' | 'TYPE', string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
      const family = familyOf(name, where);
      if (kind === 'HELP') {
        if (family.help !== undefined) throw new Error(`${where}: a second HELP for ${name}`);
        family.help = unescapeHelp(rest, where);
      } else {
        if (family.samples.length > 0 || family.typed) throw new Error(`${where}: TYPE for ${name} after its samples or twice`);
        if (!TYPES.includes(rest as MetricType)) throw new Error(`${where}: unknown type ${rest}`);
        family.type = rest as MetricType;
        family.typed = true;
      }
      return;
    }
    const sample = parseSample(line, where);
    const family = families.get(familyName(sample.name, families)) ?? familyOf(sample.name, where);
    if (family.closed) throw new Error(`${where}: samples of ${family.name} are not together`);
    if (current !== undefined && current !== family.name) families.get(current)!.closed = true;
    current = family.name;
    const id = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (series.has(id)) throw new Error(`${where}: duplicate series`);
    series.add(id);
    if (family.type === 'counter' && !(sample.value >= 0)) throw new Error(`${where}: a counter must be >= 0`);
    family.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);

  function familyOf(name: string, where: string): OpenFamily {
    let family = families.get(name);
    if (!family) {
      family = { name, type: 'untyped', help: undefined, samples: [], closed: false, typed: false };
      families.set(name, family);
    } else if (family.closed) throw new Error(`${where}: ${name} appears again after other families`);
    return family;
  }

  const all = [...families.values()];
  return {
    families,
    value(name, labels = {}) {
      const want = JSON.stringify(Object.entries(labels).sort());
      const found = all
        .flatMap((f) => f.samples)
        .filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want);
      if (found.length > 1) throw new Error(`${name} ${want} matches ${found.length} samples`);
      return found[0]?.value;
    },
    samples: (name) => all.flatMap((f) => f.samples).filter((s) => s.name === name),
  };
}

/** The family a sample belongs to: a histogram's or summary's `_bucket`, `_sum`, `_count` samples go to their base name. */
function familyName(sample: string, families: ReadonlyMap<string, MetricFamily>): string {
  const base = /^(.*)_(bucket|sum|count)$/.exec(sample)?.[1];
  const family = base === undefined ? undefined : families.get(base);
  return family && (family.type === 'histogram' || family.type === 'summary') ? base! : sample;
}

function parseSample(line: string, where: string): Sample {
  const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!head) throw new Error(`${where}: no metric name`);
  const name = head[1]!;
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    at++;
    while (line[at] !== '}') {
      const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(at));
      if (!label || !LABEL_NAME.test(label[1]!)) throw new Error(`${where}: bad label at ${at}`);
      at += label[0].length;
      let value = '';
      for (;;) {
        const c = line[at];
        if (c === undefined) throw new Error(`${where}: unterminated label value`);
        at++;
        if (c === '"') break;
        if (c === '\\') {
          const e = line[at++];
          if (e === 'n') value += '\n';
          else if (e === '\\' || e === '"') value += e;
          else throw new Error(`${where}: bad escape \\${e}`);
        } else value += c;
      }
      if (label[1]! in labels) throw new Error(`${where}: label ${label[1]} twice`);
      labels[label[1]!] = value;
      if (line[at] === ',') at++;
      else if (line[at] !== '}') throw new Error(`${where}: expected , or } at ${at}`);
    }
    at++;
  }
  const rest = /^ (\S+)( -?\d+)?$/.exec(line.slice(at));
  if (!rest) throw new Error(`${where}: expected " value [timestamp]"`);
  return { name, labels, value: parseValue(rest[1]!, where) };
}

function parseValue(text: string, where: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad value ${text}`);
  return Number(text);
}

function unescapeHelp(text: string, where: string): string {
  return text.replace(/\\(.?)/g, (_, e: string) => {
    if (e === 'n') return '\n';
    if (e === '\\') return '\\';
    throw new Error(`${where}: bad escape in HELP`);
  });
}

/** Buckets per label set: cumulative, ending with +Inf equal to _count, with a _sum. */
function checkHistogram(family: MetricFamily): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const id = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(id) ?? { buckets: [] };
    groups.set(id, group);
    if (s.name === `${family.name}_bucket`) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      group.buckets.push([parseValue(le, family.name), s.value]);
    } else if (s.name === `${family.name}_count`) group.count = s.value;
    else if (s.name === `${family.name}_sum`) group.sum = s.value;
    else throw new Error(`${family.name}: unexpected sample ${s.name}`);
  }
  for (const [id, g] of groups) {
    if (g.count === undefined || g.sum === undefined) throw new Error(`${family.name}${id}: no _count or _sum`);
    const last = g.buckets.at(-1);
    if (!last || last[0] !== Infinity || last[1] !== g.count) throw new Error(`${family.name}${id}: the +Inf bucket must equal _count`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i]![0] > g.buckets[i - 1]![0]) || g.buckets[i]![1] < g.buckets[i - 1]![1]) {
        throw new Error(`${family.name}${id}: buckets are not increasing and cumulative`);
      }
    }
  }
}
