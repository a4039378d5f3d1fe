// Finds which arguments of a command are keys by walking its key specs the way
// Redis does (db.c getKeysUsingKeySpecs), so movable keys (EVAL's numkeys,
// ZUNIONSTORE, XREAD's STREAMS, GEORADIUS STORE) come out right without code
// per command. Specs Redis marks "unknown" need a custom finder (SORT STORE).
import { bytesEqualIgnoreCase } from '../protocol/name-index.js';
import { parseInteger } from '../protocol/stream-framer.js';
import type { CommandArgs, CommandSpec, KeyIndices } from './command-spec.js';
import type { KeySpecData } from './command-data.js';

/** Returned when the arguments contradict the key specs (e.g. numkeys too big). */
export const INVALID_KEYS = -1;

/**
 * Writes the key argument indices of `args` into `keys` (cleared first).
 * Returns the number of keys, or INVALID_KEYS; a node then answers the
 * command's own syntax error.
 */
export function extractKeys(spec: CommandSpec, args: CommandArgs, keys: KeyIndices): number {
  keys.count = 0;
  if (spec.customKeys !== null) return spec.customKeys(args, keys);
  for (const keySpec of spec.keySpecs) {
    if (walkKeySpec(keySpec, args, keys) === INVALID_KEYS) {
      keys.count = 0;
      return INVALID_KEYS;
    }
  }
  return keys.count;
}

function beginIndex(keySpec: KeySpecData, args: CommandArgs): number {
  const begin = keySpec.begin;
  if (begin[0] === 'index') return begin[1];
  if (begin[0] !== 'keyword') return -1;
  const [, keyword, startFrom] = begin;
  const argc = args.argc;
  const from = startFrom > 0 ? startFrom : argc + startFrom;
  const to = startFrom > 0 ? argc - 1 : 1;
  const step = from <= to ? 1 : -1;
  // Like Redis, the search stops before `to`.
  for (let i = from; i !== to; i += step) {
    if (i >= argc || i < 1) return -1;
    if (bytesEqualIgnoreCase(args.frameBuffer, args.argStart[i] as number, args.argEnd[i] as number, keyword)) {
      return i + 1;
    }
  }
  return -1;
}

/** Pushes the key indices one key spec finds (none for an unknown spec); INVALID_KEYS when the arguments contradict it. */
export function walkKeySpec(keySpec: KeySpecData, args: CommandArgs, keys: KeyIndices): number {
  let first = beginIndex(keySpec, args);
  if (first < 0) return 0; // keyword absent or unknown spec: no keys from this spec
  const argc = args.argc;
  const find = keySpec.find;
  let last: number;
  let step: number;
  if (find[0] === 'range') {
    const [, lastKey, keyStep, limit] = find;
    if (lastKey >= 0) last = first + lastKey;
    else if (limit === 0) last = argc + lastKey;
    else last = first + Math.floor((argc - first) / limit) + lastKey;
    step = keyStep;
  } else if (find[0] === 'keynum') {
    const [, keyNumIndex, firstKey, keyStep] = find;
    const numIndex = first + keyNumIndex;
    if (numIndex >= argc) return INVALID_KEYS;
    const count = parseInteger(args.frameBuffer, args.argStart[numIndex] as number, args.argEnd[numIndex] as number);
    if (Number.isNaN(count) || count < 0) return INVALID_KEYS;
    first += firstKey;
    last = first + (count - 1) * keyStep;
    step = keyStep;
  } else {
    return 0;
  }
  if (step <= 0) return 0;
  for (let i = first; i <= last; i += step) {
    if (i >= argc || i < 1) return INVALID_KEYS;
    keys.push(i);
  }
  return keys.count;
}
