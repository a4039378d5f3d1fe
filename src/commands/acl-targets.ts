// What an ACL check looks at in a command besides its name, as Redis 7.0's
// ACLSelectorCheckCmd does: every key with the access it needs (read, write,
// both or neither, from the key spec flags) and the pub/sub channels.
//
//   key spec flags        -> access (ACLSelectorCheckKey)
//   access                -> read
//   insert|update|delete  -> write
//   RO/RW/OW/RM alone     -> neither: any key pattern, %R~ or %W~, lets it pass
//
// SET and BITFIELD have "variable flags" (SET ... GET reads, BITFIELD GET
// only reads): Redis asks their getkeys procs, so do we. SORT's STORE key
// has no usable key spec: its first key reads, the STORE key writes
// (sortGetKeys). Key specs flagged not_key (SPUBLISH's channel) are not keys.
import { bytesEqualIgnoreCase } from '../protocol/name-index.js';
import type { CommandArgs, CommandSpec, KeyIndices } from './command-spec.js';
import type { KeySpecData } from './command-data.js';
import { INVALID_KEYS, walkKeySpec } from './key-extractor.js';

export const KEY_READ = 1;
export const KEY_WRITE = 2;
/** A key spec that names no key (not_key): skipped. */
const NOT_A_KEY = 255;

/** Channel arguments of a pub/sub command; they all start at argument 1. */
export interface ChannelArgs {
  /** Every argument from 1 on (SUBSCRIBE), or argument 1 only (PUBLISH). */
  readonly all: boolean;
  /** PSUBSCRIBE: the arguments are patterns, allowed only when identical to an allowed pattern. */
  readonly pattern: boolean;
}

/** Per command: what an ACL check must examine. Worked out once per spec. */
export interface AclShape {
  /** Some key spec names keys (or a custom finder does). */
  readonly hasKeys: boolean;
  /** Access needed per key spec (KEY_READ | KEY_WRITE), NOT_A_KEY for not_key specs. */
  readonly specAccess: Uint8Array;
  /** Access of the first key from the arguments (SET, BITFIELD), or null. */
  readonly variable: ((args: CommandArgs) => number) | null;
  readonly channels: ChannelArgs | null;
}

/** Reusable per-key access list, parallel to a KeyIndices. */
export class KeyAccess {
  access = new Uint8Array(64);

  /** Room for `count` entries. */
  ensure(count: number): Uint8Array {
    if (count > this.access.length) {
      const grown = new Uint8Array(Math.max(count, this.access.length * 2));
      grown.set(this.access);
      this.access = grown;
    }
    return this.access;
  }
}

const ONE: ChannelArgs = { all: false, pattern: false };
const ALL: ChannelArgs = { all: true, pattern: false };
const PATTERNS: ChannelArgs = { all: true, pattern: true };

/** Redis's commands_with_channels table, minus the unsubscribes (never checked). */
const CHANNEL_COMMANDS: ReadonlyMap<string, ChannelArgs> = new Map([
  ['publish', ONE],
  ['spublish', ONE],
  ['subscribe', ALL],
  ['ssubscribe', ALL],
  ['psubscribe', PATTERNS],
]);

/** SET key value [... GET ...]: GET makes it read the key too (setGetKeys). */
function setAccess(args: CommandArgs): number {
  for (let i = 3; i < args.argc; i++) {
    if (bytesEqualIgnoreCase(args.frameBuffer, args.argStart[i] as number, args.argEnd[i] as number, 'get'))
      return KEY_READ | KEY_WRITE;
  }
  return KEY_WRITE;
}

/** BITFIELD key [GET ...] [OVERFLOW ...] [SET|INCRBY ...]: read-only unless it sets (bitfieldGetKeys). */
function bitfieldAccess(args: CommandArgs): number {
  const buffer = args.frameBuffer;
  for (let i = 2; i < args.argc; i++) {
    const remaining = args.argc - i - 1;
    const start = args.argStart[i] as number;
    const end = args.argEnd[i] as number;
    if (bytesEqualIgnoreCase(buffer, start, end, 'get') && remaining >= 2) i += 2;
    else if (bytesEqualIgnoreCase(buffer, start, end, 'overflow') && remaining >= 1) i += 1;
    else return KEY_READ | KEY_WRITE; // SET, INCRBY, or a syntax error: assume it writes, as Redis does
  }
  return KEY_READ;
}

const VARIABLE_ACCESS: ReadonlyMap<string, (args: CommandArgs) => number> = new Map([
  ['set', setAccess],
  ['bitfield', bitfieldAccess],
]);

function accessOf(keySpec: KeySpecData): number {
  const flags = keySpec.flags;
  if (flags.includes('not_key')) return NOT_A_KEY;
  let access = 0;
  if (flags.includes('access')) access |= KEY_READ;
  if (flags.includes('insert') || flags.includes('update') || flags.includes('delete')) access |= KEY_WRITE;
  return access;
}

const shapes = new Map<CommandSpec, AclShape>();

/** The ACL shape of `spec`, worked out on first use. */
export function aclShape(spec: CommandSpec): AclShape {
  let shape = shapes.get(spec);
  if (shape === undefined) {
    const specAccess = Uint8Array.from(spec.keySpecs, accessOf);
    shape = {
      hasKeys: spec.customKeys !== null || specAccess.some((access) => access !== NOT_A_KEY),
      specAccess,
      variable: VARIABLE_ACCESS.get(spec.name) ?? null,
      channels: CHANNEL_COMMANDS.get(spec.name) ?? null,
    };
    shapes.set(spec, shape);
  }
  return shape;
}

/**
 * Writes the key indices of `args` into `keys` and the access each needs into
 * `access` (same positions). Returns the count, or INVALID_KEYS when the
 * arguments contradict the key specs: then, as in Redis, no key is checked
 * and the command's own error comes from the node.
 */
export function extractKeyAccess(
  spec: CommandSpec,
  shape: AclShape,
  args: CommandArgs,
  keys: KeyIndices,
  access: KeyAccess,
): number {
  keys.count = 0;
  const specAccess = shape.specAccess;
  if (spec.customKeys !== null) {
    const count = spec.customKeys(args, keys);
    if (count < 0) {
      keys.count = 0;
      return INVALID_KEYS;
    }
    // SORT: the sorted key as its first spec says, the STORE key as its last;
    // a command without specs (a module's) needs both, failing closed.
    const list = access.ensure(count);
    const first = specAccess.length > 0 ? (specAccess[0] as number) : KEY_READ | KEY_WRITE;
    const rest = specAccess.length > 0 ? (specAccess[specAccess.length - 1] as number) : KEY_READ | KEY_WRITE;
    for (let i = 0; i < count; i++) list[i] = i === 0 ? first : rest === NOT_A_KEY ? first : rest;
    return count;
  }
  const keySpecs = spec.keySpecs;
  for (let s = 0; s < keySpecs.length; s++) {
    const needed = specAccess[s] as number;
    if (needed === NOT_A_KEY) continue;
    const before = keys.count;
    if (walkKeySpec(keySpecs[s] as KeySpecData, args, keys) === INVALID_KEYS) {
      keys.count = 0;
      return INVALID_KEYS;
    }
    const list = access.ensure(keys.count);
    list.fill(needed, before, keys.count);
  }
  if (shape.variable !== null && keys.count > 0) access.access[0] = shape.variable(args);
  return keys.count;
}
