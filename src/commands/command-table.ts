// The command table: the generated data of a real Redis, with the overlay's
// policy applied, indexed for allocation-free lookup by the command's bytes.
import { NameIndex } from '../protocol/name-index.js';
import type { CommandData } from './command-data.js';
import { CommandSpec, Route, type CommandArgs } from './command-spec.js';
import { COMMAND_DATA } from './command-table.generated.js';
import { OVERLAY, SLOTWAY_COMMANDS, firstArgumentKey, type Policy } from './overlay.js';

function applyPolicy(spec: CommandSpec, policy: Policy | undefined): void {
  if (policy === undefined) return;
  if (policy.kind === 'local') spec.route = Route.Local;
  else if (policy.kind === 'refuse') spec.refuse(policy.message);
  else if (policy.kind === 'keys') spec.customKeys = policy.find;
  else if (policy.kind === 'split') spec.split = { step: policy.step, merge: policy.merge };
  else if (policy.kind === 'every-master') {
    spec.route = Route.EveryMaster;
    spec.everyMaster = policy.merge;
    spec.waitsForReplicas = policy.waitsForReplicas === true;
  } else if (policy.kind === 'scan') spec.route = Route.Scan;
  else if (policy.kind === 'session') spec.route = Route.Session;
  else if (policy.kind === 'out-of-band') spec.route = Route.OutOfBand;
  else spec.blockOption = policy.option;
}

function buildSpec(data: CommandData, containerPolicy?: Policy): CommandSpec {
  const spec = new CommandSpec(data);
  applyPolicy(spec, containerPolicy);
  applyPolicy(spec, OVERLAY.get(data.name));
  if (data.subcommands.length > 0) {
    const subcommands = new NameIndex<CommandSpec>(data.subcommands.length);
    const ownPolicy = OVERLAY.get(data.name);
    for (const sub of data.subcommands) {
      const subName = sub.name.slice(sub.name.indexOf('|') + 1);
      subcommands.set(subName, buildSpec(sub, ownPolicy));
    }
    spec.subcommands = subcommands;
  }
  return spec;
}

/** What an unknown command (a module's, or a newer Redis's) is treated as. */
export const UNKNOWN_COMMAND = new CommandSpec({
  name: '',
  arity: -1,
  flags: [],
  categories: [],
  keySpecs: [],
  subcommands: [],
});
UNKNOWN_COMMAND.customKeys = firstArgumentKey;

export class CommandTable {
  readonly #index: NameIndex<CommandSpec>;

  constructor(data: readonly CommandData[] = COMMAND_DATA) {
    this.#index = new NameIndex<CommandSpec>(data.length + SLOTWAY_COMMANDS.length);
    for (const command of [...data, ...SLOTWAY_COMMANDS]) this.#index.set(command.name, buildSpec(command));
  }

  /** The spec for a framed command (its subcommand's, for containers); UNKNOWN_COMMAND if unknown. */
  lookup(args: CommandArgs): CommandSpec {
    const buffer = args.frameBuffer;
    const spec = this.#index.get(buffer, args.argStart[0] as number, args.argEnd[0] as number);
    if (spec === undefined) return UNKNOWN_COMMAND;
    if (spec.subcommands !== null && args.argc > 1) {
      const sub = spec.subcommands.get(buffer, args.argStart[1] as number, args.argEnd[1] as number);
      if (sub !== undefined) return sub;
    }
    return spec;
  }

  /**
   * Refuses `names` (commands, or container|subcommand) with `refusal(name)`;
   * returns the names it does not know.
   */
  deny(names: readonly string[], refusal: (name: string) => string): string[] {
    const unknown: string[] = [];
    for (const name of names) {
      const spec = this.get(name);
      if (spec === undefined) {
        unknown.push(name);
        continue;
      }
      // Commands Slotway refuses anyway (SHUTDOWN, DEBUG) keep the more telling reason.
      if (spec.route !== Route.Refused) spec.refuse(refusal(name));
      for (const sub of spec.subcommands?.values() ?? []) if (sub.route !== Route.Refused) sub.refuse(refusal(name));
    }
    return unknown;
  }

  /** True for a command, container|subcommand or @category an ACL rule may name. */
  knowsRuleTarget(target: string): boolean {
    if (target === 'all') return true;
    if (!target.startsWith('@')) return this.get(target) !== undefined;
    const category = target.slice(1);
    for (const spec of this.#index.values()) {
      if (spec.categories.includes(category)) return true;
      for (const sub of spec.subcommands?.values() ?? []) if (sub.categories.includes(category)) return true;
    }
    return false;
  }

  get(name: string): CommandSpec | undefined {
    const [command, sub] = name.toLowerCase().split('|');
    const spec = this.#index.getString(command ?? '');
    if (sub === undefined || spec === undefined) return spec;
    return spec.subcommands?.getString(sub);
  }
}
