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

/** A RESP3 map of already-encoded keys and values, alternating. */
export function mapReply(keysAndValues: readonly Buffer[]): Buffer {
  return Buffer.concat([Buffer.from(`%${keysAndValues.length / 2}${CRLF}`), ...keysAndValues]);
}

/** A command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly (Buffer | string)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}${CRLF}`)];
  for (const arg of args) parts.push(bulkString(arg));
  return Buffer.concat(parts);
}

/** A pub/sub confirmation as Redis sends it: an array in RESP2, a push (`>`) in RESP3. */
export function pubsubReply(resp3: boolean, kind: string, channel: Buffer | null, count: number): Buffer {
  const channelElement = channel !== null ? bulkString(channel) : resp3 ? NULL_RESP3 : NULL_BULK;
  return Buffer.concat([Buffer.from(`${resp3 ? '>' : '*'}3${CRLF}`), bulkString(kind), channelElement, integerReply(count)]);
}

