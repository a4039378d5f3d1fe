// What a client's scripts may run, as the node will enforce it. Slotway checks
// the commands a client sends, but not what a script calls: Redis does that,
// against the user of the connection the script arrived on. So each client
// has a "script identity": null when its scripts may do all Slotway's own node
// user may (they use the ordinary shared connections), or the script user
// (cluster/script-user.ts) whose rules are the client's rules minus
// --deny-commands:
//
//   default user, --deny-commands flushall,keys   ~* &* +@all +asking +script|load -flushall -keys
//   user app ... +@all -@dangerous, same deny     ~* &* +@all -@dangerous +asking +script|load -flushall -keys
//   default user, --deny-commands ""              null: Slotway's own connections
//
// Worked out once per user, when a client becomes it (AUTH), never per command.
import type { ScriptUser } from '../cluster/script-user.js';
import { SLOTWAY_COMMANDS } from '../commands/slotway-commands.js';
import type { User } from './client-auth.js';

/** Who a client is, as far as its scripts are concerned. */
export interface ScriptSubject {
  /** No rule of it refuses anything (keys and channels included): it may do all Slotway's own node user may. */
  readonly allowsEverything: boolean;
  /** Its ACL rules as canonical text: keys, channels, then commands in order (`~* &* +@all -@dangerous`). */
  aclRulesText(): string;
}

/**
 * What Slotway itself sends on a script user's connection besides the scripts:
 * ASKING before a script redirected by -ASK, SCRIPT LOAD before an EVALSHA
 * that met -NOSCRIPT. Neither lets a script do more: a script cannot call
 * SCRIPT (it is `noscript`), and ASKING only widens which slot it may touch.
 */
const SLOTWAY_NEEDS = ['+asking', '+script|load'];

/** Commands of Slotway's own (PROXY): a node would refuse an ACL rule naming them. */
const SLOTWAY_ONLY = new Set(SLOTWAY_COMMANDS.map((command) => command.name));

/** False for what only Slotway knows (`proxy`, `proxy|info`); categories and Redis commands are the node's. */
export function nodeKnows(target: string): boolean {
  return !SLOTWAY_ONLY.has(target.split('|')[0] as string);
}

/**
 * The script user's rules for `subject`, or null when nothing narrows
 * Slotway's own rights (no rule of it refuses anything, no command denied).
 * Denied commands come last, so no rule of the user can allow them again;
 * `-config` denies a container with every subcommand, `-config|set` one.
 */
export function scriptRulesText(subject: ScriptSubject, denied: readonly string[]): string | null {
  const deny = denied
    .map((name) => name.toLowerCase())
    .filter(nodeKnows)
    .map((name) => `-${name}`);
  if (subject.allowsEverything && deny.length === 0) return null;
  return [subject.aclRulesText(), ...SLOTWAY_NEEDS, ...deny].join(' ');
}

/**
 * A user's rights as ACL text for a node: its key patterns, channel patterns
 * and command rules, never its passwords or on/off (the script user has its
 * own password). Rules naming Slotway's own commands are left out: nodes do
 * not know them.
 */
export function permissionsText(user: User): string {
  const words: string[] = [];
  const keys = user.keysText();
  if (keys !== '') words.push(keys);
  if (!user.allChannels) words.push('resetchannels');
  const channels = user.channelsText();
  if (channels !== '') words.push(channels);
  words.push(user.commandBase ? '+@all' : '-@all');
  for (const rule of user.commandRules)
    if (nodeKnows(rule.target)) words.push(`${rule.allow ? '+' : '-'}${rule.target}`);
  return words.join(' ');
}

/** A users-file user as a ScriptSubject. */
function subjectOf(user: User): ScriptSubject {
  return { allowsEverything: user.allowsEverything, aclRulesText: () => permissionsText(user) };
}

/** The script identity of each user, worked out on first use. */
export class ScriptIdentities {
  readonly #denied: readonly string[];
  readonly #userFor: (rules: string) => ScriptUser;
  readonly #existingUser: (name: string, password: string) => ScriptUser;
  readonly #byUser = new WeakMap<User, ScriptUser | null>();

  /**
   * `userFor`: the node ACL user for a rule text (Router.scriptUser);
   * `existingUser`: an operator's node user a users-file `node-user` line names.
   */
  constructor(
    denied: readonly string[],
    userFor: (rules: string) => ScriptUser,
    existingUser: (name: string, password: string) => ScriptUser = userFor,
  ) {
    this.#denied = denied;
    this.#userFor = userFor;
    this.#existingUser = existingUser;
  }

  /** The script user of clients that are `user`; null: Slotway's own connections (or no user yet). */
  of(user: User | null): ScriptUser | null {
    if (user === null) return null;
    let identity = this.#byUser.get(user);
    if (identity === undefined) {
      const rules = scriptRulesText(subjectOf(user), this.#denied);
      // A node user of the operator's holds this client's scripts to its own rules, which the operator chose.
      if (user.nodeUser !== null) identity = this.#existingUser(user.nodeUser.name, user.nodeUser.password);
      else identity = rules === null ? null : this.#userFor(rules);
      this.#byUser.set(user, identity);
    }
    return identity;
  }
}
