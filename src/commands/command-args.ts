// Reading the arguments of one framed command: byte ranges into the buffer
// the command arrived in (CommandArgs), sliced or compared in place.
import { bytesEqualIgnoreCase } from '../protocol/name-index.js';
import type { CommandArgs, CommandSpec, KeyIndices } from './command-spec.js';
import { INVALID_KEYS, extractKeys } from './key-extractor.js';
import { keySlot } from './key-slot.js';

/** commandSlot() of a command without keys (or whose keys its own syntax error will be about). */
export const NO_KEYS = -1;
/** commandSlot() of a command whose keys hash to different slots. */
export const CROSS_SLOT = -2;

/** Argument `index` (0 is the command name), a view of the received bytes, not a copy. */
export function argument(args: CommandArgs, index: number): Buffer {
  return args.frameBuffer.subarray(args.argStart[index], args.argEnd[index]);
}

/** Argument `index` as text: latin1 keeps every byte, for names and numbers; utf8 for what users typed. */
export function argumentText(args: CommandArgs, index: number, encoding: 'latin1' | 'utf8' = 'latin1'): string {
  return args.frameBuffer.toString(encoding, args.argStart[index], args.argEnd[index]);
}

/** An argument from index `from` on (1: after the name) equals `word`, ignoring ASCII case (BLOCK of XREAD). */
export function hasArgument(args: CommandArgs, word: string, from = 1): boolean {
  for (let i = from; i < args.argc; i++) {
    if (bytesEqualIgnoreCase(args.frameBuffer, args.argStart[i] as number, args.argEnd[i] as number, word)) return true;
  }
  return false;
}

/** The slot every key of the command hashes to; NO_KEYS or CROSS_SLOT. `keys` is scratch space. */
export function commandSlot(spec: CommandSpec, args: CommandArgs, keys: KeyIndices): number {
  const count = extractKeys(spec, args, keys);
  if (count === INVALID_KEYS || count === 0) return NO_KEYS;
  let slot = NO_KEYS;
  for (let i = 0; i < count; i++) {
    const index = keys.indices[i] as number;
    // From the key's range in place: no view of it per key (key-slot.ts).
    const thisSlot = keySlot(args.frameBuffer, args.argStart[index] as number, args.argEnd[index] as number);
    if (slot === NO_KEYS) slot = thisSlot;
    else if (slot !== thisSlot) return CROSS_SLOT;
  }
  return slot;
}
