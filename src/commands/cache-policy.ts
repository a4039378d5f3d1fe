// Which commands --cache-commands may name (cache/read-cache.ts): pure reads
// of one key whose reply depends on the key's value alone. Redis's flags say
// most of it (readonly, not blocking, keys found without parsing, one key
// spec); this list says the rest: reads whose reply depends on the clock or
// a random draw, or that change what other commands see (TOUCH updates the
// access time), which no key invalidation would ever correct.
import type { CommandSpec } from './command-spec.js';

const NOT_CACHEABLE: ReadonlySet<string> = new Set([
  'ttl',
  'pttl',
  'expiretime',
  'pexpiretime',
  'object',
  'memory',
  'randomkey',
  'srandmember',
  'hrandfield',
  'zrandmember',
  'touch',
]);

/** Null when `spec` may be cached by --cache; else why not (for the start-up error). */
export function cacheRefusal(spec: CommandSpec): string | null {
  if (NOT_CACHEABLE.has(spec.name)) return 'its reply depends on time, chance or access history';
  if (spec.subcommands !== null) return 'a container command';
  if (!spec.readonly || spec.write) return 'not a read-only command';
  if (spec.blocking || spec.blockOption !== null) return 'it may block';
  if (spec.customKeys !== null || spec.keySpecs.length !== 1) return 'not a read of one key';
  const keySpec = spec.keySpecs[0];
  if (keySpec === undefined || keySpec.begin[0] !== 'index' || keySpec.find[0] !== 'range')
    return 'its keys are not at fixed positions';
  return null;
}
