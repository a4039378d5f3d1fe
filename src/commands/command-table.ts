// The command table: the generated data of a real Redis, with the policy
// table applied, indexed for allocation-free lookup by the command's bytes.
import { NameIndex } from '../protocol/name-index.js';
import type { CommandData } from './command-data.js';
import { CommandSpec, Route, type CommandArgs } from './command-spec.js';
import { COMMAND_DATA } from './command-table.generated.js';
import { POLICY_TABLE, type Policy } from './policy-table.js';
import { ADDED_SUBCOMMANDS, SLOTWAY_COMMANDS } from './slotway-commands.js';
import { noPolicy } from '../protocol/errors.js';
import { SCRIPT_COMMANDS } from './script-commands.js';

function applyPolicy(spec: CommandSpec, policy: Policy | undefined): void {
  if (policy === undefined) {
    // An allow-list: what the table does not classify is never forwarded.
    spec.refuse(noPolicy(spec.name.replace('|', ' ')));
    spec.classified = false;
    return;
  }
  spec.classified = true;
  switch (policy.kind) {
    case 'key':
      spec.customKeys = policy.find ?? null;
      spec.blockOption = policy.blocksWith ?? null;
      spec.scripts = policy.scripts ?? spec.scripts;
      return;
    case 'any-master':
      return;
    case 'split':
      spec.split = { step: policy.step, merge: policy.merge };
      return;
    case 'every-master':
      spec.route = Route.EveryMaster;
      spec.everyMaster = policy.merge;
      spec.adminOnly = policy.admin ?? false;
      spec.scripts = policy.scripts ?? spec.scripts;
      spec.cappedTimeout = policy.cappedTimeout ?? -1;
      spec.waitsForReplicas = policy.waitsForReplicas ?? false;
      return;
    case 'out-of-band':
      spec.route = Route.OutOfBand;
      return;
    case 'scan':
      spec.route = Route.Scan;
      return;
    case 'local':
      spec.route = Route.Local;
      spec.local = policy.answer;
      spec.waitsForIdle = policy.waitsForIdle ?? false;
      spec.queuesInTransaction = policy.inTransaction ?? false;
      return;
    case 'mode':
      spec.route = Route.Session;
      spec.mode = policy.mode;
      return;
    case 'refuse':
      spec.refuse(policy.message);
      return;
  }
}

function buildSpec(data: CommandData, added: readonly CommandData[]): CommandSpec {
  const spec = new CommandSpec(data);
  applyPolicy(spec, POLICY_TABLE.get(data.name));
  spec.runsScript = SCRIPT_COMMANDS.has(data.name);
  const prefix = `${data.name}|`;
  const subcommands = [
    ...data.subcommands,
    ...added.filter((sub) => sub.name.startsWith(prefix) && !data.subcommands.some((known) => known.name === sub.name)),
  ];
  if (subcommands.length > 0) {
    const index = new NameIndex<CommandSpec>(subcommands.length);
    for (const sub of subcommands) index.set(sub.name.slice(prefix.length), buildSpec(sub, []));
    spec.subcommands = index;
  }
  return spec;
}

/** What a command Redis does not know is: refused (server/command-dispatcher.ts words it as Redis does). */
export const UNKNOWN_COMMAND = new CommandSpec({
  name: '',
  arity: -1,
  flags: [],
  categories: [],
  keySpecs: [],
  subcommands: [],
});
UNKNOWN_COMMAND.route = Route.Refused;

/** The record of a push queued behind replies (a CLIENT TRACKING invalidation): no command's, not counted as a reply. */
export const PUSH_RECORD = new CommandSpec({
  name: 'push',
  arity: -1,
  flags: [],
  categories: [],
  keySpecs: [],
  subcommands: [],
});
PUSH_RECORD.route = Route.Local;

export class CommandTable {
  readonly #index: NameIndex<CommandSpec>;

  constructor(data: readonly CommandData[] = COMMAND_DATA) {
    this.#index = new NameIndex<CommandSpec>(data.length + SLOTWAY_COMMANDS.length);
    for (const command of [...data, ...SLOTWAY_COMMANDS])
      this.#index.set(command.name, buildSpec(command, ADDED_SUBCOMMANDS));
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

  /** Every command and subcommand, for the table's own tests and README tables. */
  *specs(): Generator<CommandSpec> {
    for (const spec of this.#index.values()) {
      yield spec;
      for (const sub of spec.subcommands?.values() ?? []) yield sub;
    }
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
    for (const spec of this.specs()) if (spec.categories.includes(category)) return true;
    return false;
  }

  get(name: string): CommandSpec | undefined {
    const [command, sub] = name.toLowerCase().split('|');
    const spec = this.#index.getString(command ?? '');
    if (sub === undefined || spec === undefined) return spec;
    return spec.subcommands?.getString(sub);
  }
}
