// Random valid node reply streams: every RESP2 type (simple strings, errors,
// integers, bulk strings, arrays, both nulls) and, in RESP3 streams, every
// RESP3 type Redis sends (null, double, boolean, big number, verbatim string,
// blob error, map, set, push, attribute), nested, cut nowhere yet. The
// generator knows where each reply ends.
import type { Rng } from './rng.js';

export interface ReplyStream {
  readonly bytes: Buffer;
  /** End offset of each reply; a reply starts where the previous one ended. */
  readonly ends: readonly number[];
  readonly resp3: boolean;
}

export interface ReplyStreamOptions {
  readonly resp3: boolean;
  /** Bulk strings of 16-300 KB now and then. */
  readonly large: boolean;
}

const TEXT = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-{}.,*$+#!|%~>=(';
const ERRORS = [
  'ERR unknown command',
  'MOVED 3999 127.0.0.1:6381',
  'ASK 12182 10.0.0.7:7002',
  'WRONGTYPE Operation against a key holding the wrong kind of value',
  'TRYAGAIN Multiple keys request during rehashing of slot',
  'CLUSTERDOWN The cluster is down',
  'ERR',
];
const INTEGERS = ['0', '1', '-1', '42', '-9223372036854775808', '9223372036854775807', '1000000', '-7'];
const DOUBLES = ['1.5', '-0', '0', 'inf', '-inf', 'nan', '3.141592653589793', '1e+300', '-2.5e-10', '10'];

/** Replies of one stream, built as a latin1 string (one char per byte). */
export function generateReplyStream(rng: Rng, options: ReplyStreamOptions): ReplyStream {
  const ends: number[] = [];
  let out = '';
  const count = rng.range(1, 8);
  for (let i = 0; i < count; i++) {
    out += element(rng, options, rng.range(0, 4));
    ends.push(out.length);
  }
  return { bytes: Buffer.from(out, 'latin1'), ends, resp3: options.resp3 };
}

function text(rng: Rng, max: number): string {
  let s = '';
  const length = rng.int(max + 1);
  for (let i = 0; i < length; i++) s += TEXT.charAt(rng.int(TEXT.length));
  return s;
}

/** Payload of a bulk string: binary, CR/LF inside, RESP-looking, or large. */
function payload(rng: Rng, options: ReplyStreamOptions): string {
  const r = rng.next();
  const length =
    r < 0.1
      ? 0
      : r < 0.8
        ? rng.range(1, 20)
        : r < 0.97
          ? rng.range(21, 300)
          : options.large
            ? rng.range(16_000, 300_000)
            : rng.range(301, 3000);
  switch (rng.int(3)) {
    case 0: {
      let s = '';
      for (let i = 0; i < length; i++) s += String.fromCharCode(rng.int(256));
      return s;
    }
    case 1: {
      let s = '';
      while (s.length < length) s += rng.pick(['\r\n', '*1\r\n', '$3\r\n', ':1\r\n', '\r', '\n', '+OK']);
      return s.slice(0, length);
    }
    default:
      return text(rng, length).padEnd(length, 'x');
  }
}

function integer(rng: Rng): string {
  if (rng.chance(0.3)) return rng.pick(INTEGERS);
  return String(rng.range(-1e9, 1e9));
}

function bigNumber(rng: Rng): string {
  let digits = String(rng.range(1, 9));
  const length = rng.range(0, 60);
  for (let i = 0; i < length; i++) digits += String(rng.int(10));
  return rng.chance(0.3) ? `-${digits}` : digits;
}

function element(rng: Rng, options: ReplyStreamOptions, depth: number): string {
  const table: [string, number][] = [
    ['+', 6],
    ['-', 3],
    [':', 5],
    ['$', 8],
    ['null2', 2],
  ];
  if (depth > 0) table.push(['*', 6]);
  if (options.resp3) {
    table.push(['_', 2], [',', 2], ['#', 2], ['(', 2], ['=', 2], ['!', 2]);
    if (depth > 0) table.push(['%', 4], ['~', 3], ['>', 2], ['|', 2]);
  }
  const type = rng.weighted(table);
  const children = (): number => (rng.chance(0.95) ? rng.int(5) : rng.range(5, 40));
  switch (type) {
    case '+':
      return `+${text(rng, 12)}\r\n`;
    case '-':
      return `-${rng.pick(ERRORS)}\r\n`;
    case ':':
      return `:${integer(rng)}\r\n`;
    case '$': {
      const data = payload(rng, options);
      return `$${data.length}\r\n${data}\r\n`;
    }
    case 'null2':
      return rng.chance(0.5) ? '$-1\r\n' : '*-1\r\n';
    case '_':
      return '_\r\n';
    case ',':
      return `,${rng.pick(DOUBLES)}\r\n`;
    case '#':
      return rng.chance(0.5) ? '#t\r\n' : '#f\r\n';
    case '(':
      return `(${bigNumber(rng)}\r\n`;
    case '=': {
      const data = `${rng.pick(['txt', 'mkd'])}:${payload(rng, options)}`;
      return `=${data.length}\r\n${data}\r\n`;
    }
    case '!': {
      const data = rng.chance(0.5) ? rng.pick(ERRORS) : `SYNTAX ${payload(rng, options)}`;
      return `!${data.length}\r\n${data}\r\n`;
    }
    case '%': {
      const n = children();
      let s = `%${n}\r\n`;
      for (let i = 0; i < 2 * n; i++) s += element(rng, options, depth - 1);
      return s;
    }
    case '|': {
      // An attribute: its pairs, then the value it annotates (one element in all).
      const n = rng.int(3);
      let s = `|${n}\r\n`;
      for (let i = 0; i < 2 * n; i++) s += element(rng, options, depth - 1);
      return s + element(rng, options, depth - 1);
    }
    default: {
      // '*', '~', '>'
      const n = children();
      let s = `${type}${n}\r\n`;
      for (let i = 0; i < n; i++) s += element(rng, options, depth - 1);
      return s;
    }
  }
}
