// redis-parser (the RESP2 parser ioredis uses) as an independent judge of valid
// streams: the values it reads, in a form that compares as a string.
import { inspect } from 'node:util';
import RedisParser from 'redis-parser';

/** A value redis-parser returned (Buffers, strings of digits, nulls, errors, arrays) as one string. */
export function canonical(value: unknown): string {
  if (value === null) return 'nil';
  if (Buffer.isBuffer(value)) return `b${value.length}:${value.toString('latin1')}`;
  if (typeof value === 'string') return `s${value}`;
  if (typeof value === 'number') return `n${value}`;
  if (value instanceof Error) return `e${value.message}`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  return `?${inspect(value)}`;
}

/** Every value redis-parser reads from `bytes` (returnBuffers, stringNumbers), canonical; a parser error as `fatal:`. */
export function parseAll(bytes: Buffer): string[] {
  const out: string[] = [];
  const parser = new RedisParser({
    returnBuffers: true,
    stringNumbers: true,
    returnReply: (reply: unknown) => out.push(canonical(reply)),
    returnError: (error: Error) => out.push(canonical(error)),
    returnFatalError: (error: Error) => out.push(`fatal:${error.message}`),
  });
  parser.execute(bytes);
  return out;
}

const SENTINEL = Buffer.from('+sentinel\r\n');
const SENTINEL_VALUE = canonical(Buffer.from('sentinel'));

/**
 * Checks that redis-parser reads `stream` as exactly the replies ending at
 * `ends`: as many values, and each reply read alone (followed by a sentinel,
 * which a reply too short or too long would swallow or break) gives the value
 * it has in the whole stream. null when it does; else what differs.
 */
export function checkRepliesWithRedisParser(stream: Buffer, ends: readonly number[]): string | null {
  const whole = parseAll(stream);
  if (whole.length !== ends.length) return `redis-parser reads ${whole.length} replies, expected ${ends.length}`;
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i] as number;
    const alone = parseAll(Buffer.concat([stream.subarray(start, end), SENTINEL]));
    if (alone.length !== 2 || alone[0] !== whole[i] || alone[1] !== SENTINEL_VALUE) {
      return `redis-parser reads reply ${i} (bytes ${start}-${end}) alone as ${JSON.stringify(alone).slice(0, 200)}`;
    }
    start = end;
  }
  return null;
}

/**
 * Checks that redis-parser reads a RESP-only command stream as the same
 * argument arrays (leaving out `*0` and `*-1`, which it returns as [] and null
 * and Redis ignores).
 */
export function checkCommandsWithRedisParser(stream: Buffer, commands: readonly (readonly Buffer[])[]): string | null {
  const values = parseAll(stream).filter((v) => v !== 'nil' && v !== '[]');
  if (values.length !== commands.length)
    return `redis-parser reads ${values.length} commands, expected ${commands.length}`;
  for (let i = 0; i < values.length; i++) {
    const expected = canonical(commands[i]);
    if (values[i] !== expected) return `redis-parser reads command ${i} as ${(values[i] ?? '').slice(0, 200)}`;
  }
  return null;
}
