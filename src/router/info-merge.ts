// The masters' INFO replies merged into one, field by field, by the rules of
// info-fields.ts. Pure: texts in, sections of (field, value) out; Slotway's
// own fields ('own') are not made here (server/info-text.ts adds them).
//
//   master A: "# Memory\r\nused_memory:100\r\n..."  ┐
//   master B: "# Memory\r\nused_memory:250\r\n..."  ┴─> memory: [[used_memory, 350], [used_memory_human, 350B] ...]
import type { InfoField, InfoRule, InfoSection } from './info-fields.js';

/** One section's fields in order: [name, value]. */
export type InfoLines = readonly (readonly [string, string])[];
/** Sections by name (lowercase: `memory`), as INFO lists them. */
export type ParsedInfo = ReadonlyMap<string, InfoLines>;

/** Splits an INFO reply's text into sections of `name:value` fields. */
export function parseInfo(text: string): ParsedInfo {
  const sections = new Map<string, [string, string][]>();
  let current: [string, string][] | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('# ')) {
      current = [];
      sections.set(line.slice(2).trim().toLowerCase(), current);
      continue;
    }
    const colon = line.indexOf(':');
    if (current === null || colon <= 0) continue;
    current.push([line.slice(0, colon), line.slice(colon + 1)]);
  }
  return sections;
}

/** Slotway's own values ('own' rules), by section then field. */
export type OwnInfo = ReadonlyMap<string, ReadonlyMap<string, string>>;

/**
 * Every master's INFO merged, for the sections asked (INFO_SECTIONS' order),
 * with Slotway's own fields in their places; fields no one reported are absent.
 */
export function mergeInfo(texts: readonly string[], sections: readonly InfoSection[], own: OwnInfo): ParsedInfo {
  let masters = parsed.get(texts);
  if (masters === undefined) parsed.set(texts, (masters = texts.map(parseInfo)));
  const merged = new Map<string, InfoLines>();
  for (const section of sections) {
    const inputs = masters.map((m) => new Map(m.get(section.name) ?? []));
    const firstLines = masters[0]?.get(section.name) ?? [];
    merged.set(section.name, mergeSection(section.fields, inputs, firstLines, own.get(section.name) ?? NO_FIELDS));
  }
  return merged;
}

/** INFO's text: `# Title` and `name:value` lines per section, sections apart by an empty line, as Redis writes it. */
export function renderInfo(merged: ParsedInfo, sections: readonly InfoSection[]): string {
  return sections
    .map((section) => {
      const lines = merged.get(section.name) ?? [];
      return `# ${section.title}\r\n${lines.map(([name, value]) => `${name}:${value}\r\n`).join('')}`;
    })
    .join('\r\n');
}

const NO_FIELDS: ReadonlyMap<string, string> = new Map();
/** The masters' texts parsed once per fetch: every INFO within --info-cache-ms shares the same array. */
const parsed = new WeakMap<readonly string[], ParsedInfo[]>();

function mergeSection(
  fields: readonly InfoField[],
  inputs: Map<string, string>[],
  firstLines: InfoLines,
  own: ReadonlyMap<string, string>,
): InfoLines {
  const values = new Map<string, string>();
  // Values first, then what is made from them (human forms, ratios), then the output in the rules' order.
  for (const field of fields) {
    if (field.rule === 'own' || field.rule === 'human' || field.rule === 'derived') continue;
    if (field.rule === 'first-lines' || field.rule === 'parts' || field.rule === 'left-out') continue;
    const found = inputs.map((input) => input.get(field.name)).filter((v): v is string => v !== undefined);
    if (found.length === 0) continue;
    values.set(field.name, mergeValues(field.rule, found, inputs.length));
  }
  const out: (readonly [string, string])[] = [];
  for (const field of fields) {
    switch (field.rule) {
      case 'own': {
        if (field.name === '*') out.push(...own);
        const value = own.get(field.name);
        if (value !== undefined) out.push([field.name, value]);
        continue;
      }
      case 'first-lines':
        out.push(...firstLines);
        continue;
      case 'left-out':
        continue;
      case 'parts':
        out.push(...mergeFamily(field.name, inputs));
        continue;
      case 'human': {
        const base = values.get(field.name.slice(0, -'_human'.length));
        if (base !== undefined) out.push([field.name, bytesToHuman(Number(base))]);
        continue;
      }
      case 'derived': {
        const value = derived(field.name, values);
        if (value !== null) out.push([field.name, value]);
        continue;
      }
      default: {
        const value = values.get(field.name);
        if (value !== undefined) out.push([field.name, value]);
      }
    }
  }
  return out;
}

/** The merged value of one plain field from the masters that reported it. */
function mergeValues(rule: InfoRule, found: string[], masters: number): string {
  const first = found[0] as string;
  switch (rule) {
    case 'sum':
      return sum(found);
    case 'max':
      return extreme(found, (a, b) => a > b);
    case 'min':
      return extreme(found, (a, b) => a < b);
    case 'worst-status':
      return found.find((v) => v !== 'ok') ?? first;
    case 'failover-state':
      return found.find((v) => v !== 'no-failover') ?? first;
    case 'lowest-version':
      return found.reduce((low, v) => (compareVersions(v, low) < 0 ? v : low));
    case 'most-evicting':
      return found.reduce((most, v) => (evictionRank(v) > evictionRank(most) ? v : most));
    case 'smallest-limit-times-masters': {
      const limits = found.map(Number).filter((n) => n > 0);
      return limits.length === 0 ? '0' : String(Math.min(...limits) * masters);
    }
    default:
      return first;
  }
}

/** Integers add up as integers; decimals keep the most digits any master gave. */
function sum(values: string[]): string {
  let total = 0;
  let decimals = 0;
  for (const value of values) {
    const n = Number(value);
    if (Number.isNaN(n)) return values[0] as string;
    total += n;
    const dot = value.indexOf('.');
    if (dot >= 0) decimals = Math.max(decimals, value.length - dot - 1);
  }
  return decimals === 0 ? String(total) : total.toFixed(decimals);
}

/** The value (as the master wrote it) that wins the comparison. */
function extreme(values: string[], wins: (a: number, b: number) => boolean): string {
  let best = values[0] as string;
  for (const value of values) if (wins(Number(value), Number(best))) best = value;
  return best;
}

/** -1, 0, 1 as `a` is a lower, the same, a higher version than `b` (`7.0.15` against `7.2.4`). */
export function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** How many keys a maxmemory-policy may evict: any key > keys with a TTL > none. */
function evictionRank(policy: string): number {
  if (policy.startsWith('allkeys-')) return 3;
  if (policy === 'volatile-ttl') return 1;
  if (policy.startsWith('volatile-')) return 2;
  return 0;
}

/** Ratios and percentages made from merged fields, formatted as Redis does; null without their inputs. */
function derived(name: string, values: Map<string, string>): string | null {
  const used = Number(values.get('used_memory'));
  switch (name) {
    case 'used_memory_peak_perc': {
      const peak = Number(values.get('used_memory_peak'));
      return Number.isFinite(used) && peak > 0 ? `${((used * 100) / peak).toFixed(2)}%` : null;
    }
    case 'used_memory_dataset_perc': {
      const dataset = Number(values.get('used_memory_dataset'));
      const startup = Number(values.get('used_memory_startup'));
      if (!Number.isFinite(dataset) || !Number.isFinite(used) || !Number.isFinite(startup)) return null;
      const net = used > startup ? used - startup : 1;
      return `${((dataset * 100) / net).toFixed(2)}%`;
    }
    default:
      return null;
  }
}

/**
 * A family of fields whose value is `key=value,...` (`cmdstat_get`, `db0`,
 * `errorstat_ERR`, `latency_percentiles_usec_get`): each key merged by the
 * family's rule; members in the order the masters first list them.
 */
function mergeFamily(pattern: string, inputs: Map<string, string>[]): InfoLines {
  const prefix = pattern.slice(0, -1);
  const members = new Map<string, Map<string, string>[]>();
  for (const input of inputs) {
    for (const [name, value] of input) {
      if (!name.startsWith(prefix)) continue;
      let list = members.get(name);
      if (list === undefined) members.set(name, (list = []));
      list.push(parseParts(value));
    }
  }
  const out: [string, string][] = [];
  for (const [name, parts] of members) out.push([name, mergeParts(prefix, parts)]);
  return out;
}

function parseParts(value: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) parts.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return parts;
}

function mergeParts(prefix: string, lists: Map<string, string>[]): string {
  const keys: string[] = [];
  for (const parts of lists) for (const key of parts.keys()) if (!keys.includes(key)) keys.push(key);
  const merged = new Map<string, string>();
  const values = (key: string): string[] =>
    lists.map((parts) => parts.get(key)).filter((v): v is string => v !== undefined);
  for (const key of keys) {
    if (prefix === 'latency_percentiles_usec_')
      merged.set(
        key,
        extreme(values(key), (a, b) => a > b),
      );
    else if (key !== 'usec_per_call' && key !== 'avg_ttl') merged.set(key, sum(values(key)));
  }
  if (keys.includes('usec_per_call')) {
    const calls = Number(merged.get('calls'));
    merged.set('usec_per_call', (calls > 0 ? Number(merged.get('usec')) / calls : 0).toFixed(2));
  }
  if (keys.includes('avg_ttl')) merged.set('avg_ttl', String(averageTtl(lists)));
  return keys.map((key) => `${key}=${merged.get(key) ?? ''}`).join(',');
}

/** A database's avg_ttl: each master's weighted by its keys with a TTL (Redis averages over those). */
function averageTtl(lists: Map<string, string>[]): number {
  let weighted = 0;
  let expires = 0;
  for (const parts of lists) {
    const n = Number(parts.get('expires') ?? 0);
    weighted += Number(parts.get('avg_ttl') ?? 0) * n;
    expires += n;
  }
  return expires === 0 ? 0 : Math.round(weighted / expires);
}

/** Redis's bytesToHuman: `1023B`, `894.84K`, `11.57M` ... */
export function bytesToHuman(n: number): string {
  const units = ['K', 'M', 'G', 'T', 'P'];
  if (!Number.isFinite(n) || n < 1024) return `${Math.max(0, Math.trunc(n))}B`;
  let scaled = n / 1024;
  for (const unit of units) {
    if (scaled < 1024 || unit === 'P') return `${scaled.toFixed(2)}${unit}`;
    scaled /= 1024;
  }
  return `${n}B`;
}
