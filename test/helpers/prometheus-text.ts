// A strict reader of the Prometheus text exposition format (version 0.0.4),
// line by line: it throws on the first line a Prometheus server would
// reject or misread, naming the line. Checked:
// - `# HELP name text` and `# TYPE name type` at most once per family, TYPE
//   before the family's first sample, every sample's family TYPE-declared;
// - sample lines `name{label="value",...} value [timestamp]`: valid metric
//   and label names, quoted values with only \\ \" \n escapes, no repeated
//   label, a value Go's ParseFloat reads (so NaN, +Inf, -Inf in any case),
//   an integer timestamp, tokens separated by blanks or tabs;
// - a family's samples are contiguous; no series appears twice;
// - counters are >= 0; histograms: per label set, `le` buckets in rising
//   order with non-decreasing counts, a +Inf bucket equal to _count, a _sum.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  type: string;
  help: string | null;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Parses and validates `text`; returns the families by name. Throws `line N: problem: <line>`. */
export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seenSeries = new Set<string>();
  const finished = new Set<string>(); // families whose samples ended (another family's began)
  let current: string | null = null;
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, index) => {
    const fail = (problem: string): never => {
      throw new Error(`line ${index + 1}: ${problem}: ${JSON.stringify(line)}`);
    };
    if (line === '') return;
    if (/^\s/.test(line)) fail('leading whitespace');
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (match === null) return; // a plain comment
      const [, keyword, name, rest] = match as unknown as [string, string, string, string | undefined];
      if (!METRIC_NAME.test(name)) fail('invalid metric name');
      const family = families.get(name) ?? { name, type: '', help: null, samples: [] };
      families.set(name, family);
      if (family.samples.length > 0) fail(`${keyword} after the family's samples`);
      if (keyword === 'HELP') {
        if (family.help !== null) fail('second HELP');
        const help = rest ?? '';
        if (/\\(?![\\n])/.test(help)) fail('HELP text with an escape other than \\\\ or \\n');
        family.help = help;
      } else {
        if (family.type !== '') fail('second TYPE');
        if (rest === undefined || !TYPES.has(rest)) fail('unknown type');
        family.type = rest as string;
      }
      return;
    }
    const sample = parseSample(line, fail);
    const family = familyOf(sample.name, families);
    if (family === undefined) return fail('sample of a family without a TYPE line');
    if (family.type === 'counter' && !(sample.value >= 0)) fail('negative or NaN counter');
    if (current !== family.name) {
      if (finished.has(family.name)) fail('samples of a family are not contiguous');
      if (current !== null) finished.add(current);
      current = family.name;
    }
    const series = `${sample.name}{${Object.keys(sample.labels)
      .sort()
      .map((k) => `${k}=${sample.labels[k]}`)
      .join(',')}}`;
    if (seenSeries.has(series)) fail('duplicate series');
    seenSeries.add(series);
    family.samples.push(sample);
  });
  for (const family of families.values()) {
    if (family.type === '') throw new Error(`family ${family.name} has HELP but no TYPE`);
    if (family.type === 'histogram') checkHistogram(family);
  }
  return families;
}

function familyOf(sampleName: string, families: Map<string, Family>): Family | undefined {
  const exact = families.get(sampleName);
  if (exact !== undefined && exact.type !== 'histogram') return exact;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const family = families.get(sampleName.slice(0, -suffix.length));
    if (family?.type === 'histogram' || (family?.type === 'summary' && suffix !== '_bucket')) return family;
  }
  return undefined;
}

function parseSample(line: string, fail: (problem: string) => never): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (nameMatch === null) return fail('no metric name');
  const name = nameMatch[0];
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === '{') {
    at++;
    while (line[at] !== '}') {
      const labelMatch = /^([^=]*)="/.exec(line.slice(at));
      if (labelMatch === null) fail('malformed label');
      const labelName = labelMatch[1] as string;
      if (!LABEL_NAME.test(labelName)) fail(`invalid label name ${JSON.stringify(labelName)}`);
      if (labelName in labels) fail(`label ${labelName} repeated`);
      at += labelMatch[0].length;
      let value = '';
      for (;;) {
        const c = line[at++];
        if (c === undefined) fail('unterminated label value');
        if (c === '"') break;
        if (c === '\\') {
          const escaped = line[at++];
          if (escaped === '\\' || escaped === '"') value += escaped;
          else if (escaped === 'n') value += '\n';
          else fail('invalid escape in a label value');
        } else {
          value += c;
        }
      }
      labels[labelName] = value;
      if (line[at] === ',')
        at++; // a trailing comma is allowed
      else if (line[at] !== '}') fail('expected , or } after a label');
    }
    at++;
  }
  if (line[at] !== ' ' && line[at] !== '\t') fail('expected a blank before the value');
  const parts = line
    .slice(at)
    .replace(/^[ \t]+/, '')
    .split(/[ \t]+/);
  if (parts.length > 2 || parts.some((p) => p === '')) fail('expected a value and at most a timestamp');
  const valueText = parts[0] as string;
  const value = parseValue(valueText);
  if (value === null) fail(`invalid value ${JSON.stringify(valueText)}`);
  if (parts.length === 2 && !/^-?\d+$/.test(parts[1] as string)) fail('invalid timestamp');
  return { name, labels, value };
}

/** A float as Go's strconv.ParseFloat reads it (what Prometheus uses): special values in any case. */
function parseValue(text: string): number | null {
  const lower = text.toLowerCase();
  if (lower === 'nan') return NaN;
  if (/^\+?inf(inity)?$/.test(lower)) return Infinity;
  if (/^-inf(inity)?$/.test(lower)) return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return null;
  return Number(text);
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    const where = `${family.name}${key}`;
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${where}: a bucket without le`);
      const bound = parseValue(le);
      if (bound === null || Number.isNaN(bound)) throw new Error(`${where}: le="${le}" is not a number`);
      group.buckets.push([bound, sample.value]);
    } else if (le !== undefined) {
      throw new Error(`${where}: le on ${sample.name}`);
    } else if (sample.name.endsWith('_sum')) {
      group.sum = sample.value;
    } else {
      group.count = sample.value;
    }
  }
  for (const [key, group] of groups) {
    const where = `${family.name}${key}`;
    if (group.sum === undefined || group.count === undefined) throw new Error(`${where}: _sum or _count missing`);
    const last = group.buckets[group.buckets.length - 1];
    if (last === undefined || last[0] !== Infinity) throw new Error(`${where}: the last bucket is not le="+Inf"`);
    for (let i = 1; i < group.buckets.length; i++) {
      const [previousBound, previousCount] = group.buckets[i - 1] as [number, number];
      const [bound, count] = group.buckets[i] as [number, number];
      if (!(bound > previousBound)) throw new Error(`${where}: le bounds not rising (${previousBound} then ${bound})`);
      if (count < previousCount)
        throw new Error(`${where}: bucket counts fall (${previousCount} then ${count} at le=${bound})`);
    }
    if (last[1] !== group.count) throw new Error(`${where}: +Inf bucket ${last[1]} != _count ${group.count}`);
  }
}

/** The value of the sample `name` whose labels include `labels`, summed when several match; undefined when none does. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  let total: number | undefined;
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      if (Object.entries(labels).some(([k, v]) => sample.labels[k] !== v)) continue;
      total = (total ?? 0) + sample.value;
    }
  }
  return total;
}
