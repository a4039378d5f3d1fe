// Random valid client command streams, as Redis reads them (networking.c,
// processMultibulkBuffer and processInlineBuffer with sdssplitargs): RESP
// arrays of bulk strings (empty, binary, CR/LF inside, occasionally large),
// inline commands with quotes and escapes, and the items Redis reads and
// ignores (`*0`, `*-1`, blank lines). The generator knows what it wrote: every
// command's byte range and arguments, and where each ignored item ends.
import type { Rng } from './rng.js';

export interface ExpectedCommand {
  /** The command's bytes in the stream: [start, end). */
  readonly start: number;
  readonly end: number;
  readonly args: readonly Buffer[];
  readonly inline: boolean;
}

export interface CommandStream {
  readonly bytes: Buffer;
  readonly commands: readonly ExpectedCommand[];
  /** Where each item Redis ignores (`*0`, `*-3`, a blank inline line) ends. */
  readonly skips: readonly number[];
  /** No inline commands: redis-parser can read the whole stream too. */
  readonly respOnly: boolean;
}

export interface CommandStreamOptions {
  readonly inline: boolean;
  /** Arguments of 16-80 KB now and then (spill buffer growth, hints). */
  readonly large: boolean;
}

const WORD = Buffer.from('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-{}');
const RESPISH = Buffer.from('*$\r\n0123456789-+:');
const INLINE_CHARS = Buffer.from('abcxyzABC019 \t\x0b\x0c"\'\\*$\r\n\x00\x07\x08\xe9\xff{}:');
const LINE_BLANKS = Buffer.from(' \t\x0b\x0c\r');

/** A command argument: a name, a key, a binary value, RESP-looking bytes, ... */
export function randomArg(rng: Rng, large: boolean): Buffer {
  const r = rng.next();
  let length: number;
  if (r < 0.08) length = 0;
  else if (r < 0.7) length = rng.range(1, 12);
  else if (r < 0.96) length = rng.range(13, 120);
  else length = large ? rng.range(16_000, 80_000) : rng.range(121, 1500);
  switch (rng.int(4)) {
    case 0:
      return rng.bytes(length, WORD);
    case 1:
      return rng.bytes(length);
    case 2:
      return rng.bytes(length, RESPISH);
    default:
      return Buffer.alloc(length, rng.int(256));
  }
}

export function generateCommandStream(rng: Rng, options: CommandStreamOptions): CommandStream {
  const parts: Buffer[] = [];
  const commands: ExpectedCommand[] = [];
  const skips: number[] = [];
  let at = 0;
  let respOnly = true;
  const items = rng.range(1, 10);
  for (let item = 0; item < items; item++) {
    let bytes: Buffer;
    if (rng.chance(0.05)) {
      // Read and ignored by Redis: an empty or negative multibulk count.
      bytes = Buffer.from(`*${rng.pick(['0', '-1', '-7'])}\r\n`);
      skips.push(at + bytes.length);
    } else if (options.inline && rng.chance(0.45)) {
      respOnly = false;
      const line = inlineLine(rng);
      bytes = line.bytes;
      if (line.args.length === 0) skips.push(at + bytes.length);
      else commands.push({ start: at, end: at + bytes.length, args: line.args, inline: true });
    } else {
      const argc = rng.chance(0.9) ? rng.range(1, 6) : rng.range(7, 40);
      const args: Buffer[] = [];
      for (let i = 0; i < argc; i++) args.push(randomArg(rng, options.large));
      bytes = encodeResp(args);
      commands.push({ start: at, end: at + bytes.length, args, inline: false });
    }
    parts.push(bytes);
    at += bytes.length;
  }
  return { bytes: Buffer.concat(parts, at), commands, skips, respOnly };
}

/**
 * A command as a RESP array of bulk strings, written plainly (independent of
 * src/protocol/resp-writer.ts, which the framer itself uses for inline commands).
 */
export function encodeResp(args: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) parts.push(Buffer.from(`$${arg.length}\r\n`), arg, Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

// ---- inline commands -------------------------------------------------------

/** isspace() in the C locale, as sdssplitargs skips blanks and checks closing quotes. */
export function isCSpace(byte: number): boolean {
  return byte === 32 || (byte >= 9 && byte <= 13);
}

/** Bytes an unquoted argument cannot hold: they end it, open a quote, or end the line. */
function unsafeBare(byte: number): boolean {
  return byte === 32 || byte === 9 || byte === 10 || byte === 13 || byte === 0 || byte === 34 || byte === 39;
}

function inlineArg(rng: Rng): Buffer {
  const length = rng.chance(0.1) ? 0 : rng.range(1, 14);
  if (rng.chance(0.4)) return rng.bytes(length, WORD);
  return rng.bytes(length, INLINE_CHARS);
}

/** One inline line and the arguments Redis reads from it (none: a blank line). */
function inlineLine(rng: Rng): { bytes: Buffer; args: Buffer[] } {
  const argc = rng.chance(0.08) ? 0 : rng.range(1, 6);
  const args: Buffer[] = [];
  for (let i = 0; i < argc; i++) args.push(inlineArg(rng));
  const out: number[] = [];
  const blanks = (n: number): void => {
    for (let i = 0; i < n; i++) out.push(LINE_BLANKS[rng.int(LINE_BLANKS.length)] as number);
  };
  if (rng.chance(0.15)) blanks(rng.range(1, 2));
  args.forEach((arg, index) => {
    if (index > 0) {
      // The separator's first byte must end an unquoted argument: ' ', '\t' or '\r'
      // (sdssplitargs does not end one at '\v' or '\f', it only skips them).
      out.push(rng.pick([32, 32, 32, 9, 13]));
      if (rng.chance(0.2)) blanks(rng.range(1, 2));
    }
    // A line's first byte '*' would make it a multibulk request.
    writeInlineArg(rng, arg, out, out.length === 0);
  });
  if (rng.chance(0.15)) {
    out.push(rng.pick([32, 9]));
    blanks(rng.int(2));
  }
  if (rng.chance(0.8)) out.push(13);
  out.push(10);
  return { bytes: Buffer.from(out), args };
}

function writeInlineArg(rng: Rng, arg: Buffer, out: number[], lineStart: boolean): void {
  const bare =
    arg.length > 0 && !isCSpace(arg[0] as number) && !(lineStart && arg[0] === 42) && !arg.some((b) => unsafeBare(b));
  const single = !arg.includes(10) && !arg.includes(13) && !arg.includes(0) && arg[arg.length - 1] !== 92;
  const styles: string[] = ['double'];
  if (bare) styles.push('bare', 'bare', 'bare');
  if (single) styles.push('single');
  // `ab"c d"`: a quote opens a quoted section in the middle of an argument.
  const split = arg.length > 1 ? rng.range(1, arg.length - 1) : 0;
  const prefix = arg.subarray(0, split);
  const prefixBare =
    split > 0 &&
    !isCSpace(prefix[0] as number) &&
    !(lineStart && prefix[0] === 42) &&
    !prefix.some((b) => unsafeBare(b));
  if (prefixBare) styles.push('mixed');
  switch (rng.pick(styles)) {
    case 'bare':
      for (const b of arg) out.push(b);
      return;
    case 'single':
      out.push(39);
      for (const b of arg) {
        if (b === 39) out.push(92, 39);
        else out.push(b);
      }
      out.push(39);
      return;
    case 'mixed':
      for (const b of prefix) out.push(b);
      writeDoubleQuoted(rng, arg.subarray(split), out);
      return;
    default:
      writeDoubleQuoted(rng, arg, out);
  }
}

const HEX = '0123456789abcdef';
const NAMED_ESCAPES: Record<number, number> = { 10: 110, 13: 114, 9: 116, 8: 98, 7: 97 };

function writeDoubleQuoted(rng: Rng, arg: Buffer, out: number[]): void {
  out.push(34);
  for (const b of arg) {
    const named = NAMED_ESCAPES[b];
    const hex = (): void => {
      const digits = rng.chance(0.5) ? HEX : HEX.toUpperCase();
      out.push(92, 120, digits.charCodeAt(b >> 4), digits.charCodeAt(b & 15));
    };
    if (b === 34 || b === 92) out.push(92, b);
    else if (b === 10 || b === 13 || b === 0) {
      if (named !== undefined && rng.chance(0.6)) out.push(92, named);
      else hex();
    } else if (named !== undefined && rng.chance(0.5)) out.push(92, named);
    else if (rng.chance(0.1)) hex();
    // eslint-disable-next-line no-dupe-else-if -- rng.chance() draws anew on each call; this is a second draw
    else if (isDefaultEscapable(b) && rng.chance(0.1))
      out.push(92, b); // `\q` is `q`
    else out.push(b);
  }
  out.push(34);
}

/** A byte that `\` before it leaves as itself (not n r t b a, not x, which may start \xHH). */
function isDefaultEscapable(byte: number): boolean {
  return byte > 32 && byte < 127 && !'nrtbax'.includes(String.fromCharCode(byte));
}
