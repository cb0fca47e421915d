/**
 * A strict parser for the Prometheus text exposition format 0.0.4, for tests: it rejects what a
 * Prometheus server would reject or silently mangle (bad names, bad escapes, a sample before its TYPE,
 * a family split in two, duplicate series, non-cumulative histogram buckets, a `+Inf` bucket that
 * disagrees with `_count`), so a test that parses /metrics proves the exposition, not only its substrings.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name (`x_bucket`, `x_sum`, … for histograms). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string | undefined;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export class ExpositionError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'ExpositionError';
  }
}

/** Go's strconv.ParseFloat, which Prometheus uses: infinities and NaN in any letter case. */
function parseValue(text: string, line: number): number {
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new ExpositionError(line, `bad value ${JSON.stringify(text)}`);
  return Number(text);
}

/** `{a="x",b="y\"z"}` starting at `at`; returns the labels and the index after `}`. */
function parseLabels(text: string, at: number, line: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = at + 1;
  for (;;) {
    if (text[i] === '}') return { labels, end: i + 1 };
    const eq = text.indexOf('=', i);
    if (eq === -1) throw new ExpositionError(line, 'label without =');
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new ExpositionError(line, `bad label name ${JSON.stringify(name)}`);
    if (Object.hasOwn(labels, name)) throw new ExpositionError(line, `label ${name} twice`);
    if (text[eq + 1] !== '"') throw new ExpositionError(line, `label ${name}: value not quoted`);
    let value = '';
    let j = eq + 2;
    for (; ; j++) {
      const c = text[j];
      if (c === undefined) throw new ExpositionError(line, `label ${name}: unterminated value`);
      if (c === '"') break;
      if (c === '\\') {
        const next = text[++j];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else throw new ExpositionError(line, `label ${name}: bad escape \\${next ?? ''}`);
      } else value += c;
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new ExpositionError(line, `expected , or } after label ${name}`);
  }
}

function familyOf(sample: string, families: Map<string, Family>): Family | undefined {
  const exact = families.get(sample);
  if (exact && exact.type !== 'histogram') return exact;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sample.endsWith(suffix)) continue;
    const f = families.get(sample.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return exact;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new ExpositionError(0, 'the exposition must end with a newline');
  const families = new Map<string, Family>();
  const series = new Set<string>();
  let current: Family | undefined;
  const closed = new Set<string>();
  text.split('\n').forEach((raw, index) => {
    const n = index + 1;
    const line = raw.trim();
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, 'HELP' | 'TYPE', string, string | undefined];
      if (!METRIC_NAME.test(name)) throw new ExpositionError(n, `bad metric name ${JSON.stringify(name)}`);
      let f = families.get(name);
      if (!f) {
        if (closed.has(name)) throw new ExpositionError(n, `${name} appears again after another family`);
        f = { name, type: 'untyped', help: undefined, samples: [] };
        families.set(name, f);
      }
      if (current && current !== f) closed.add(current.name);
      current = f;
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new ExpositionError(n, `second HELP for ${name}`);
        f.help = (rest ?? '').replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
      } else {
        if (f.samples.length > 0) throw new ExpositionError(n, `TYPE for ${name} after its samples`);
        if (!TYPES.has(rest as MetricType)) throw new ExpositionError(n, `unknown type ${JSON.stringify(rest)}`);
        f.type = rest as MetricType;
      }
      return;
    }
    const nameEnd = line.search(/[{\s]/);
    const name = nameEnd === -1 ? line : line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new ExpositionError(n, `bad metric name ${JSON.stringify(name)}`);
    let labels: Record<string, string> = {};
    let restAt = nameEnd;
    if (line[nameEnd] === '{') ({ labels, end: restAt } = parseLabels(line, nameEnd, n));
    const parts = line.slice(restAt).trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2 || parts[0] === '') throw new ExpositionError(n, 'expected a value and an optional timestamp');
    const value = parseValue(parts[0]!, n);
    let family = familyOf(name, families);
    if (!family) {
      family = { name, type: 'untyped', help: undefined, samples: [] };
      families.set(name, family);
    }
    if (closed.has(family.name)) throw new ExpositionError(n, `${family.name} appears again after another family`);
    if (current && current !== family) closed.add(current.name);
    current = family;
    const key = `${name}{${Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',')}}`;
    if (series.has(key)) throw new ExpositionError(n, `duplicate series ${key}`);
    series.add(key);
    if (family.type === 'counter' && !(value >= 0)) throw new ExpositionError(n, `counter ${name} is ${value}`);
    family.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new ExpositionError(0, `${f.name}_bucket without le`);
      g.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name === `${f.name}_count`) g.count = s.value;
    else if (s.name === `${f.name}_sum`) g.sum = s.value;
  }
  for (const [key, g] of groups) {
    for (let i = 1; i < g.buckets.length; i++) {
      if (g.buckets[i]![0] <= g.buckets[i - 1]![0]) throw new ExpositionError(0, `${f.name}${key}: le not increasing`);
      if (g.buckets[i]![1] < g.buckets[i - 1]![1]) throw new ExpositionError(0, `${f.name}${key}: buckets not cumulative`);
    }
    const inf = g.buckets.at(-1);
    if (!inf || inf[0] !== Infinity) throw new ExpositionError(0, `${f.name}${key}: no le="+Inf" bucket`);
    if (g.count !== inf[1]) throw new ExpositionError(0, `${f.name}${key}: _count ${g.count} ≠ +Inf bucket ${inf[1]}`);
    if (g.sum === undefined) throw new ExpositionError(0, `${f.name}${key}: no _sum`);
  }
}

/** The value of one series (exact label match), or undefined. */
export function valueOf(families: Map<string, Family>, sample: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== sample) continue;
      const keys = Object.keys(s.labels);
      if (keys.length === Object.keys(labels).length && keys.every((k) => s.labels[k] === labels[k])) return s.value;
    }
  }
  return undefined;
}

/** Sum over every series of `sample` whose labels include `labels`. */
export function sumOf(families: Map<string, Family>, sample: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
    }
  }
  return sum;
}
