// One user of the users file and what its ACL rules allow, checked as Redis
// 7.0 checks a command (acl.c ACLSelectorCheckCmd): the command (or
// subcommand) first, then every key against the key patterns with the access
// the key needs, then the pub/sub channels. Rules are parsed in acl-rules.ts.
//
//   commands: base (+@all / -@all) then rules, the last rule naming the command wins
//             (the same verdict as Redis's bitmap set rule by rule); cached per spec
//   keys:     allKeys, or patterns each with read and/or write access
//   channels: allChannels, or patterns; PSUBSCRIBE's patterns must be identical
import { createHash, timingSafeEqual } from 'node:crypto';
import { aclShape, extractKeyAccess, KeyAccess, type AclShape } from '../commands/acl-targets.js';
import { argumentText } from '../commands/command-args.js';
import type { CommandArgs, CommandSpec, KeyIndices } from '../commands/command-spec.js';
import * as errors from '../protocol/errors.js';
import { stringMatch } from '../util/stringmatch.js';

export interface CommandRule {
  readonly allow: boolean;
  /** A category ('@read'), a command ('client') or a subcommand ('client|kill'), lower case. */
  readonly target: string;
}

export interface KeyPattern {
  /** As written in the users file (after ~, %R~ ...). */
  readonly text: string;
  readonly bytes: Buffer;
  /** KEY_READ | KEY_WRITE it grants. */
  access: number;
}

export interface ChannelPattern {
  readonly text: string;
  readonly bytes: Buffer;
}

/** The node ACL user whose rights this user's scripts run with (`node-user` line of the users file). */
export interface NodeUser {
  readonly name: string;
  readonly password: string;
}

/** Why a command is refused; which argument, for ACL DRYRUN's words. */
export const enum Denial {
  None = 0,
  Command = 1,
  Key = 2,
  Channel = 3,
}

/** The commands of @admin, to tell an admin (set by the directory that builds users). */
export interface AdminCommands {
  readonly adminCommands: readonly CommandSpec[];
}

/** Scratch for the checks: sessions run one at a time. */
const scratchAccess = new KeyAccess();

/** Per command spec: allowed or not, and its shape, worked out once. */
interface Verdict {
  readonly permitted: boolean;
  readonly shape: AclShape;
}

export class User {
  readonly name: string;
  enabled = false;
  /** SHA-256 digests of its passwords. */
  readonly passwords: Buffer[] = [];
  noPassword = false;
  /** '' (Redis's default), 'sanitize-payload' or 'skip-sanitize-payload': kept for ACL LIST and the node user. */
  sanitizePayload = '';
  /** Commands no rule names: allowed (+@all) or not (-@all). */
  commandBase = false;
  commandRules: CommandRule[] = [];
  allKeys = false;
  readonly keyPatterns: KeyPattern[] = [];
  allChannels = false;
  readonly channelPatterns: ChannelPattern[] = [];
  /** The node ACL user scripts should run as, from a `node-user` line; null when none is named. */
  nodeUser: NodeUser | null = null;
  /** The argument a refused check stopped at (for ACL DRYRUN), 0 for the command. */
  deniedArgument = 0;
  readonly #verdicts = new Map<CommandSpec, Verdict>();
  readonly #admins: AdminCommands;
  #admin: boolean | null = null;

  /** Defined in the users file (not the implicit default user of --requirepass or of no option). */
  fromUsersFile = false;

  constructor(name: string, admins: AdminCommands) {
    this.name = name;
    this.#admins = admins;
  }

  /** True when no rule can refuse anything: the session then skips the check (the hot path costs nothing). */
  get allowsEverything(): boolean {
    return this.commandBase && this.allKeys && this.allChannels && this.commandRules.every((rule) => rule.allow);
  }

  /**
   * An admin may see other users (ACL GETUSER of anyone, ACL LIST, ACL
   * DRYRUN): a user whose rules allow every command of @admin (+@all does).
   */
  get isAdmin(): boolean {
    this.#admin ??= this.#admins.adminCommands.every((spec) => this.permits(spec));
    return this.#admin;
  }

  /**
   * May run node administration through Slotway (CONFIG SET, SAVE ... on
   * every master): an admin the users file names, never the implicit
   * default user of --requirepass or of no option at all.
   */
  get administersNodes(): boolean {
    return this.fromUsersFile && this.isAdmin;
  }

  /** Rules changed (while the file is read): cached verdicts are void. */
  rulesChanged(): void {
    this.#verdicts.clear();
    this.#admin = null;
  }

  /** The command (or subcommand) itself is allowed, whatever its keys. */
  permits(spec: CommandSpec): boolean {
    return this.#verdict(spec).permitted;
  }

  /**
   * The one check of a framed command: null when the user may run it, else
   * the error line (Redis 7.0's NOPERM words). `keys` is scratch space.
   */
  check(spec: CommandSpec, args: CommandArgs, keys: KeyIndices): string | null {
    switch (this.deny(spec, args, keys)) {
      case Denial.None:
        return null;
      case Denial.Command:
        // An unknown command is named as typed, as Redis names it.
        return errors.noPermission(spec.name === '' ? argumentText(args, 0).toLowerCase() : spec.name);
      case Denial.Key:
        return errors.NOPERM_KEY;
      case Denial.Channel:
        return errors.NOPERM_CHANNEL;
    }
  }

  /** What refuses the command, in Redis's order: the command, a key, a channel. Sets deniedArgument. */
  deny(spec: CommandSpec, args: CommandArgs, keys: KeyIndices): Denial {
    this.deniedArgument = 0;
    const verdict = this.#verdict(spec);
    // AUTH, HELLO ... (no_auth) are never refused by the command rules, as in Redis.
    if (!verdict.permitted && !spec.noAuth) return Denial.Command;
    const shape = verdict.shape;
    if (!this.allKeys && shape.hasKeys && !this.#keysAllowed(spec, shape, args, keys)) return Denial.Key;
    if (!this.allChannels && shape.channels !== null && !this.#channelsAllowed(shape, args)) return Denial.Channel;
    return Denial.None;
  }

  checkPassword(password: Buffer): boolean {
    if (this.noPassword) return true;
    return matchesDigest(this.passwords, sha256(password));
  }

  /**
   * The user's rules as ACL text, as `ACL LIST` prints them after the name:
   * `on #<sha256> ~app:* resetchannels &events:* -@all +get`. Applied with
   * `ACL SETUSER <name> reset <text>` it makes an equivalent user on a node.
   */
  aclRulesText(): string {
    const words = [...this.flags()];
    for (const digest of this.passwords) words.push(`#${digest.toString('hex')}`);
    const keys = this.keysText();
    if (keys !== '') words.push(keys);
    if (!this.allChannels) words.push('resetchannels');
    const channels = this.channelsText();
    if (channels !== '') words.push(channels);
    words.push(this.commandsText());
    return words.join(' ');
  }

  /** ACL GETUSER's flags, in Redis's order. */
  flags(): string[] {
    const flags = [this.enabled ? 'on' : 'off'];
    if (this.noPassword) flags.push('nopass');
    if (this.sanitizePayload !== '') flags.push(this.sanitizePayload);
    return flags;
  }

  commandsText(): string {
    return [
      this.commandBase ? '+@all' : '-@all',
      ...this.commandRules.map((rule) => `${rule.allow ? '+' : '-'}${rule.target}`),
    ].join(' ');
  }

  keysText(): string {
    if (this.allKeys) return '~*';
    return this.keyPatterns.map((p) => `${p.access === 3 ? '' : p.access === 1 ? '%R' : '%W'}~${p.text}`).join(' ');
  }

  channelsText(): string {
    if (this.allChannels) return '&*';
    return this.channelPatterns.map((p) => `&${p.text}`).join(' ');
  }

  #verdict(spec: CommandSpec): Verdict {
    let verdict = this.#verdicts.get(spec);
    if (verdict === undefined) {
      verdict = { permitted: this.#evaluate(spec), shape: aclShape(spec) };
      this.#verdicts.set(spec, verdict);
    }
    return verdict;
  }

  #evaluate(spec: CommandSpec): boolean {
    const bar = spec.name.indexOf('|');
    const command = bar < 0 ? spec.name : spec.name.slice(0, bar);
    let allowed = this.commandBase;
    for (const rule of this.commandRules) {
      const target = rule.target;
      const matches =
        target === spec.name ||
        target === command ||
        (target.charCodeAt(0) === 64 /* @ */ && spec.categories.includes(target.slice(1)));
      if (matches) allowed = rule.allow;
    }
    return allowed;
  }

  /** Every key of the command against the patterns that grant the access it needs (ACLSelectorCheckKey). */
  #keysAllowed(spec: CommandSpec, shape: AclShape, args: CommandArgs, keys: KeyIndices): boolean {
    const count = extractKeyAccess(spec, shape, args, keys, scratchAccess);
    const access = scratchAccess.access;
    const buffer = args.frameBuffer;
    for (let i = 0; i < count; i++) {
      const index = keys.indices[i] as number;
      const needed = access[i] as number;
      const start = args.argStart[index] as number;
      const end = args.argEnd[index] as number;
      let allowed = false;
      for (const pattern of this.keyPatterns) {
        if ((pattern.access & needed) !== needed) continue;
        if (stringMatch(pattern.bytes, buffer, start, end)) {
          allowed = true;
          break;
        }
      }
      if (!allowed) {
        this.deniedArgument = index;
        return false;
      }
    }
    return true;
  }

  /** Channels glob-match the patterns; PSUBSCRIBE's patterns must equal one (ACLCheckChannelAgainstList). */
  #channelsAllowed(shape: AclShape, args: CommandArgs): boolean {
    const channels = shape.channels as NonNullable<AclShape['channels']>;
    const last = channels.all ? args.argc - 1 : Math.min(1, args.argc - 1);
    const buffer = args.frameBuffer;
    for (let index = 1; index <= last; index++) {
      const start = args.argStart[index] as number;
      const end = args.argEnd[index] as number;
      let allowed = false;
      for (const pattern of this.channelPatterns) {
        const matches = channels.pattern
          ? pattern.bytes.length === end - start && pattern.bytes.compare(buffer, start, end) === 0
          : stringMatch(pattern.bytes, buffer, start, end);
        if (matches) {
          allowed = true;
          break;
        }
      }
      if (!allowed) {
        this.deniedArgument = index;
        return false;
      }
    }
    return true;
  }
}

export function sha256(data: Buffer | string): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Compares against every digest (no early exit), so the time does not tell which one matched. */
export function matchesDigest(digests: readonly Buffer[], digest: Buffer): boolean {
  let matched = false;
  for (const stored of digests) if (timingSafeEqual(stored, digest)) matched = true;
  return matched;
}
