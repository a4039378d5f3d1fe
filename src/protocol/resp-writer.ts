// Encoders for the replies Slotway writes itself and the commands it sends on
// its own (ASKING, re-encoded inline commands). Forwarded traffic never passes
// through here: it stays the bytes it arrived as.

const CRLF = '\r\n';

export const OK = Buffer.from('+OK\r\n');
export const PONG = Buffer.from('+PONG\r\n');
export const NULL_BULK = Buffer.from('$-1\r\n');
export const NULL_ARRAY = Buffer.from('*-1\r\n');
/** RESP3's null, for clients that said HELLO 3. */
export const NULL_RESP3 = Buffer.from('_\r\n');
export const EMPTY_ARRAY = Buffer.from('*0\r\n');
export const ASKING_COMMAND = Buffer.from('*1\r\n$6\r\nASKING\r\n');

export function simpleString(text: string): Buffer {
  return Buffer.from(`+${text}${CRLF}`);
}

/**
 * `message` is the whole error line without the dash, e.g. `ERR unknown command`.
 * Encoded as latin1, one byte per character, so a raw byte quoted in a message
 * (`expected '$', got '\xff'`) goes out as that byte, as Redis sends it.
 */
export function errorReply(message: string): Buffer {
  return Buffer.from(`-${message.replace(/[\r\n]+/g, ' ')}${CRLF}`, 'latin1');
}

export function integerReply(value: number): Buffer {
  return Buffer.from(`:${value}${CRLF}`);
}

export function bulkString(value: Buffer | string | null): Buffer {
  if (value === null) return NULL_BULK;
  const data = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([Buffer.from(`$${data.length}${CRLF}`), data, Buffer.from(CRLF)]);
}

/** An array of already-encoded replies. */
export function arrayReply(items: readonly Buffer[]): Buffer {
  return Buffer.concat([Buffer.from(`*${items.length}${CRLF}`), ...items]);
}

/** A RESP3 set of already-encoded elements. */
export function setReply(elements: readonly Buffer[]): Buffer {
  return Buffer.concat([Buffer.from(`~${elements.length}${CRLF}`), ...elements]);
}

/** A RESP3 map of already-encoded keys and values, alternating. */
export function mapReply(keysAndValues: readonly Buffer[]): Buffer {
  return Buffer.concat([Buffer.from(`%${keysAndValues.length / 2}${CRLF}`), ...keysAndValues]);
}

/** A command as a RESP array of bulk strings, written into one buffer (fan-out builds one per slot). */
export function encodeCommand(args: readonly (Buffer | string)[]): Buffer {
  let size = headerLength(args.length);
  for (const arg of args) {
    const length = typeof arg === 'string' ? Buffer.byteLength(arg) : arg.length;
    size += headerLength(length) + length + 2;
  }
  const out = Buffer.allocUnsafe(size);
  let at = writeHeader(out, 0, 42 /* '*' */, args.length);
  for (const arg of args) {
    if (typeof arg === 'string') {
      at = writeHeader(out, at, 36 /* '$' */, Buffer.byteLength(arg));
      at += out.write(arg, at);
    } else {
      at = writeHeader(out, at, 36 /* '$' */, arg.length);
      at += arg.copy(out, at);
    }
    out[at++] = 13;
    out[at++] = 10;
  }
  return out;
}

/** Bytes of `*<n>\r\n` or `$<n>\r\n`. */
function headerLength(n: number): number {
  return 3 + (n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : String(n).length);
}

function writeHeader(out: Buffer, at: number, type: number, n: number): number {
  out[at++] = type;
  at += out.write(String(n), at, 'latin1');
  out[at++] = 13;
  out[at++] = 10;
  return at;
}

/** A pub/sub confirmation as Redis sends it: an array in RESP2, a push (`>`) in RESP3. */
export function pubsubReply(resp3: boolean, kind: string, channel: Buffer | null, count: number): Buffer {
  const channelElement = channel !== null ? bulkString(channel) : resp3 ? NULL_RESP3 : NULL_BULK;
  return Buffer.concat([
    Buffer.from(`${resp3 ? '>' : '*'}3${CRLF}`),
    bulkString(kind),
    channelElement,
    integerReply(count),
  ]);
}
