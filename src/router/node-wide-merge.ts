// How every master's answer to a node-wide report combines into the cluster's
// (LATENCY, MEMORY STATS/DOCTOR/MALLOC-STATS, CONFIG GET's secrets). Pure
// functions of reply bytes, unit tested; replies keep the shape the nodes
// gave (RESP2 arrays or RESP3 maps, bulk or verbatim strings).
//
//   LATENCY LATEST      per event (first-seen order): the newest time, the
//                       largest latest and the largest all-time max.
//   LATENCY HISTORY ev  every master's samples by time; one second sampled on
//                       several masters keeps the largest; the newest 160
//                       (Redis's own bound per event).
//   LATENCY HISTOGRAM   per command: calls summed; the buckets (cumulative
//                       counts at bucket bounds in µs) added up, each master
//                       counting at a bound what it had at its last bound below.
//   MEMORY STATS        byte and count fields summed (peak.allocated: the sum
//                       of each master's peak, an upper bound); ratios and
//                       percentages computed again from the sums where Redis
//                       derives them from fields shown, else the largest.
//   DOCTOR, GRAPH,      each master's text under a line naming it, one after
//   MALLOC-STATS        the other; a master's error is shown as its text.
//   CONFIG GET          (for non-admins) the values of secrets emptied.
import { decodeResp, encodeResp, numberOf, stringOf, type RespValue } from '../protocol/resp-value.js';

/** Redis keeps this many samples per latency event (latency.h LATENCY_TS_LEN). */
const LATENCY_SAMPLES = 160;

export function mergeLatencyLatest(replies: readonly Buffer[]): Buffer {
  const values = replies.map(decodeResp);
  const events = new Map<string, RespValue[]>();
  for (const value of values) {
    for (const entry of itemsOf(value)) {
      const fields = itemsOf(entry);
      const name = stringOf(fields[0]) ?? '';
      const known = events.get(name);
      if (known === undefined) {
        events.set(name, [...fields]);
        continue;
      }
      for (let i = 1; i < fields.length; i++) {
        const field = fields[i] as RespValue;
        if (numberOf(field) > numberOf(known[i])) known[i] = field;
      }
    }
  }
  const entryType = firstEntryType(values);
  return encodeResp(
    aggregate(
      values[0],
      [...events.values()].map((fields) => ({ type: entryType, items: fields })),
    ),
  );
}

export function mergeLatencyHistory(replies: readonly Buffer[]): Buffer {
  const values = replies.map(decodeResp);
  const samples = new Map<number, RespValue[]>();
  for (const value of values) {
    for (const sample of itemsOf(value)) {
      const fields = itemsOf(sample);
      const time = numberOf(fields[0]);
      const known = samples.get(time);
      if (known === undefined || numberOf(fields[1]) > numberOf(known[1])) samples.set(time, [...fields]);
    }
  }
  const ordered = [...samples].sort((a, b) => a[0] - b[0]).slice(-LATENCY_SAMPLES);
  const entryType = firstEntryType(values);
  return encodeResp(
    aggregate(
      values[0],
      ordered.map(([, fields]) => ({ type: entryType, items: fields })),
    ),
  );
}

export function mergeLatencyHistogram(replies: readonly Buffer[]): Buffer {
  const values = replies.map(decodeResp);
  /** command -> its calls and, per master, [bound, cumulative count] pairs. */
  const commands = new Map<string, { calls: number; buckets: [number, number][][]; shape: RespValue }>();
  for (const value of values) {
    const items = itemsOf(value);
    for (let i = 0; i + 1 < items.length; i += 2) {
      const name = stringOf(items[i]) ?? '';
      const details = items[i + 1] as RespValue;
      const fields = itemsOf(details);
      let command = commands.get(name);
      if (command === undefined) {
        command = { calls: 0, buckets: [], shape: details };
        commands.set(name, command);
      }
      for (let f = 0; f + 1 < fields.length; f += 2) {
        const field = stringOf(fields[f]);
        const content = fields[f + 1] as RespValue;
        if (field === 'calls') command.calls += numberOf(content);
        else if (field === 'histogram_usec') command.buckets.push(pairsOf(content));
      }
    }
  }
  const out: RespValue[] = [];
  for (const [name, command] of commands) {
    const histogramShape = itemsOf(command.shape)[3];
    const merged = addCumulative(command.buckets).flatMap(([bound, count]): RespValue[] => [
      { type: ':', text: String(bound) },
      { type: ':', text: String(count) },
    ]);
    out.push({ type: '$', text: name });
    out.push(
      aggregate(command.shape, [
        { type: '$', text: 'calls' },
        { type: ':', text: String(command.calls) },
        { type: '$', text: 'histogram_usec' },
        aggregate(histogramShape, merged),
      ]),
    );
  }
  return encodeResp(aggregate(values[0], out));
}

/**
 * Cumulative histograms of several masters, added: at each bound any master
 * has, the sum over masters of the count at their last bound at or below it.
 */
export function addCumulative(histograms: readonly (readonly [number, number][])[]): [number, number][] {
  const bounds = [...new Set(histograms.flatMap((h) => h.map(([bound]) => bound)))].sort((a, b) => a - b);
  return bounds.map((bound): [number, number] => {
    let total = 0;
    for (const histogram of histograms) {
      let count = 0;
      for (const [at, cumulative] of histogram) if (at <= bound) count = cumulative;
      total += count;
    }
    return [bound, total];
  });
}

/** Ratios Redis derives from fields MEMORY STATS shows: numerator / denominator of the sums (× 100 for percentages). */
const DERIVED: ReadonlyMap<string, (sum: (field: string) => number) => number> = new Map([
  ['keys.bytes-per-key', (s) => Math.floor(s('keys.count') > 0 ? netUsage(s) / s('keys.count') : 0)],
  ['dataset.percentage', (s) => (netUsage(s) > 0 ? (s('dataset.bytes') * 100) / netUsage(s) : 0)],
  ['peak.percentage', (s) => (s('peak.allocated') > 0 ? (s('total.allocated') * 100) / s('peak.allocated') : 0)],
  ['allocator-fragmentation.ratio', (s) => ratio(s('allocator.active'), s('allocator.allocated'))],
  ['allocator-rss.ratio', (s) => ratio(s('allocator.resident'), s('allocator.active'))],
  // rss = allocator.resident + rss-overhead.bytes
  ['rss-overhead.ratio', (s) => ratio(s('allocator.resident') + s('rss-overhead.bytes'), s('allocator.resident'))],
]);

function netUsage(sum: (field: string) => number): number {
  return Math.max(0, sum('total.allocated') - sum('startup.allocated'));
}

function ratio(numerator: number, denominator: number): number {
  return denominator > 0 ? numerator / denominator : 0;
}

export function mergeMemoryStats(replies: readonly Buffer[]): Buffer {
  const values = replies.map(decodeResp);
  const merged = mergeFields(values.map(itemsOf));
  const sums = new Map<string, number>();
  for (const value of values) {
    const items = itemsOf(value);
    for (let i = 0; i + 1 < items.length; i += 2) {
      const name = stringOf(items[i]) ?? '';
      sums.set(name, (sums.get(name) ?? 0) + (numberOf(items[i + 1]) || 0));
    }
  }
  const sum = (field: string): number => sums.get(field) ?? 0;
  for (let i = 0; i + 1 < merged.length; i += 2) {
    const derive = DERIVED.get(stringOf(merged[i]) ?? '');
    if (derive !== undefined) merged[i + 1] = numberLike(merged[i + 1] as RespValue, derive(sum));
  }
  return encodeResp(aggregate(values[0], merged));
}

/**
 * Field/value lists of every master, merged by field name (first-seen
 * order): integers summed, nested field lists (db.0) merged alike, other
 * numbers (ratios) the largest; Redis's derived ratios are recomputed by the caller.
 */
function mergeFields(lists: readonly RespValue[][]): RespValue[] {
  const byName = new Map<string, RespValue[]>();
  for (const items of lists) {
    for (let i = 0; i + 1 < items.length; i += 2) {
      const name = stringOf(items[i]) ?? '';
      const entry = byName.get(name);
      if (entry === undefined) byName.set(name, [items[i] as RespValue, items[i + 1] as RespValue]);
      else entry.push(items[i + 1] as RespValue);
    }
  }
  const out: RespValue[] = [];
  for (const [nameValue, ...versions] of byName.values()) {
    out.push(nameValue as RespValue, mergeValue(versions));
  }
  return out;
}

function mergeValue(versions: readonly RespValue[]): RespValue {
  const first = versions[0] as RespValue;
  if ('items' in first) return aggregate(first, mergeFields(versions.map(itemsOf)));
  if (first.type === ':') return { type: ':', text: String(versions.reduce((a, v) => a + (numberOf(v) || 0), 0)) };
  const numbers = versions.map(numberOf).filter((n) => !Number.isNaN(n));
  if (numbers.length === 0) return first;
  return numberLike(first, Math.max(...numbers));
}

/** `value` replaced by `n` in the same encoding: an integer, a double, or a double as a bulk string (RESP2). */
function numberLike(value: RespValue, n: number): RespValue {
  if (value.type === ':') return { type: ':', text: String(Math.round(n)) };
  if (value.type === ',') return { type: ',', text: String(n) };
  return { type: '$', text: String(n) };
}

/**
 * DOCTOR, GRAPH, MALLOC-STATS: each master's text under a line naming it.
 * All masters answering an error: the first error, as one node would.
 */
export function textByNode(replies: readonly Buffer[], addresses: readonly string[]): Buffer {
  const values = replies.map(decodeResp);
  const answered = values.find((value) => value.type !== '-');
  if (answered === undefined) return replies[0] ?? Buffer.from('$0\r\n\r\n');
  const parts = values.map((value, i) => {
    const text = value.type === '-' ? value.text : (stringOf(value) ?? '');
    return `=== master ${addresses[i] ?? '?'} ===\n${text.endsWith('\n') ? text : `${text}\n`}`;
  });
  const text = parts.join('\n');
  return encodeResp(answered.type === '=' ? { type: '=', text: `txt:${text}` } : { type: '$', text });
}

/** Names of configuration parameters whose values are the operator's secrets. */
export function isSecretParameter(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.includes('pass') || lower === 'masteruser' || lower === 'masterauth';
}

/** CONFIG GET's name/value pairs with every secret's value emptied. */
export function redactConfig(reply: Buffer): Buffer {
  const value = decodeResp(reply);
  if (!('items' in value)) return reply;
  const items = value.items.map((item, i) =>
    i % 2 === 1 && isSecretParameter(stringOf(value.items[i - 1]) ?? '') ? { type: '$' as const, text: '' } : item,
  );
  return encodeResp({ type: value.type, items });
}

function itemsOf(value: RespValue | undefined): RespValue[] {
  return value !== undefined && 'items' in value ? value.items : [];
}

/** [bound, count] pairs of a histogram (a RESP2 array or RESP3 map of integers). */
function pairsOf(value: RespValue): [number, number][] {
  const items = itemsOf(value);
  const pairs: [number, number][] = [];
  for (let i = 0; i + 1 < items.length; i += 2) pairs.push([numberOf(items[i]), numberOf(items[i + 1])]);
  return pairs;
}

/** An aggregate of the same type as `like` (an array when there is none). */
function aggregate(like: RespValue | undefined, items: RespValue[]): RespValue {
  const type = like !== undefined && 'items' in like ? like.type : '*';
  return { type, items };
}

/** The aggregate type of the entries (RESP2 and RESP3 alike: arrays). */
function firstEntryType(values: readonly RespValue[]): '*' | '%' | '~' | '>' | '|' {
  for (const value of values) {
    const entry = itemsOf(value)[0];
    if (entry !== undefined && 'items' in entry) return entry.type;
  }
  return '*';
}
