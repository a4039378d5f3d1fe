// --cache-commands read at start: every name must be a command --cache may
// answer (commands/cache-policy.ts); one that is not stops Slotway with why,
// rather than caching a reply that no invalidation would correct.
import { cacheRefusal } from '../commands/cache-policy.js';
import type { CommandTable } from '../commands/command-table.js';

/** The command names (lowercase, as CommandSpec.name) --cache answers; throws listing every refused name. */
export function cacheCommands(names: readonly string[], table: CommandTable): ReadonlySet<string> {
  const problems: string[] = [];
  const accepted = new Set<string>();
  for (const raw of names) {
    const name = raw.trim().toLowerCase();
    if (name === '') continue;
    const spec = name.includes('|') ? undefined : table.get(name);
    if (spec === undefined) {
      problems.push(`${raw}: unknown command`);
      continue;
    }
    const refusal = cacheRefusal(spec);
    if (refusal === null) accepted.add(spec.name);
    else problems.push(`${raw}: ${refusal}`);
  }
  if (problems.length > 0) throw new Error(`--cache-commands: ${problems.join('; ')}`);
  return accepted;
}
