// Who may talk to Slotway, and what each may run: `--requirepass` (the
// default user's password) and ACL-style users from `--users-file`, in the
// syntax of Redis's ACL file:
//
//   user app    on >s3cret ~* &* +@all -@dangerous
//   user reader on #<sha256 of the password> ~* +@read +@connection
//   user ops    off
//
// Rules apply left to right as in Redis (the last one that matches a command
// wins). Key and channel patterns other than "all" are refused at start:
// Slotway does not check keys against patterns; the cluster's own ACL can.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CommandSpec } from '../commands/command-spec.js';
import type { CommandTable } from '../commands/command-table.js';
import { deniedCommand } from '../protocol/errors.js';

interface CommandRule {
  readonly allow: boolean;
  /** 'all', a category ('@read'), a command ('client') or a subcommand ('client|kill'). */
  readonly target: string;
}

export class User {
  readonly name: string;
  enabled = false;
  /** SHA-256 digests of its passwords. */
  readonly passwords: Buffer[] = [];
  noPassword = false;
  rules: CommandRule[] = [];
  /** Defined in the users file (not the implicit default user of --requirepass or of no option). */
  fromUsersFile = false;
  /** Per command spec: allowed or not, worked out once. */
  readonly #verdicts = new Map<CommandSpec, boolean>();

  constructor(name: string) {
    this.name = name;
  }

  /** True when no rule can refuse anything (the common case skips the check on the hot path). */
  get allowsEverything(): boolean {
    let everything = false;
    for (const rule of this.rules) {
      if (rule.target === 'all') everything = rule.allow;
      else if (!rule.allow) everything = false;
    }
    return everything;
  }

  /**
   * May run node administration through Slotway (CONFIG SET, SAVE ... on
   * every master): a users-file user whose rules allow every @admin command.
   */
  get isAdmin(): boolean {
    if (!this.fromUsersFile) return false;
    let admin = false;
    for (const rule of this.rules) {
      if (rule.target === 'all' || rule.target === '@admin') admin = rule.allow;
      else if (!rule.allow) admin = false;
    }
    return admin;
  }

  permits(spec: CommandSpec): boolean {
    let verdict = this.#verdicts.get(spec);
    if (verdict === undefined) {
      verdict = this.#evaluate(spec);
      this.#verdicts.set(spec, verdict);
    }
    return verdict;
  }

  checkPassword(password: string): boolean {
    if (this.noPassword) return true;
    const digest = sha256(password);
    return this.passwords.some((stored) => timingSafeEqual(stored, digest));
  }

  #evaluate(spec: CommandSpec): boolean {
    const command = spec.name.split('|')[0] as string;
    let allowed = false;
    for (const rule of this.rules) {
      const target = rule.target;
      const matches =
        target === 'all' ||
        target === spec.name ||
        target === command ||
        (target.startsWith('@') && spec.categories.includes(target.slice(1)));
      if (matches) allowed = rule.allow;
    }
    return allowed;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Everyone Slotway knows; `required` is false when no password is configured at all. */
export class UserDirectory {
  readonly #users = new Map<string, User>();

  get required(): boolean {
    const defaultUser = this.#users.get('default');
    return defaultUser === undefined || !defaultUser.noPassword || !defaultUser.enabled;
  }

  /** The default user, when it may be used without AUTH (no password configured). */
  get anonymous(): User | null {
    return this.required ? null : (this.#users.get('default') as User);
  }

  get(name: string): User | undefined {
    return this.#users.get(name);
  }

  /** The user `name` authenticated by `password`, or null (unknown, disabled or wrong password alike). */
  authenticate(name: string, password: string): User | null {
    const user = this.#users.get(name);
    if (user === undefined || !user.enabled || !user.checkPassword(password)) return null;
    return user;
  }

  /**
   * Builds the directory from the options. Without either, the default user
   * is open to all as in a Redis without requirepass. Errors are one line
   * each, naming the file line.
   */
  static create(
    requirepass: string,
    usersText: string | null,
    knowsTarget: (target: string) => boolean,
    usersLabel = 'users file',
  ): { directory: UserDirectory; errors: string[] } {
    const directory = new UserDirectory();
    const errors: string[] = [];
    const defaultUser = new User('default');
    defaultUser.enabled = true;
    defaultUser.rules = [{ allow: true, target: 'all' }];
    if (requirepass === '') defaultUser.noPassword = true;
    else defaultUser.passwords.push(sha256(requirepass));
    directory.#users.set('default', defaultUser);
    if (usersText === null) return { directory, errors };

    const lines = usersText.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const words = (lines[i] as string).trim().split(/\s+/).filter((word) => word !== '');
      if (words.length === 0 || (words[0] as string).startsWith('#')) continue;
      const where = `${usersLabel} line ${i + 1}`;
      if (words[0] !== 'user' || words.length < 2) {
        errors.push(`${where}: expected "user <name> [rules...]"`);
        continue;
      }
      const name = words[1] as string;
      // A file that names the default user replaces what --requirepass said about it.
      const user = new User(name);
      user.fromUsersFile = true;
      for (const word of words.slice(2)) {
        const problem = applyRule(user, word, knowsTarget);
        if (problem !== null) errors.push(`${where}: ${problem}`);
      }
      directory.#users.set(name, user);
    }
    return { directory, errors };
  }
}

/** Applies one ACL rule word to `user`; an error sentence if Slotway cannot honour it. */
function applyRule(user: User, word: string, knowsTarget: (target: string) => boolean): string | null {
  const lower = word.toLowerCase();
  switch (lower) {
    case 'on':
      user.enabled = true;
      return null;
    case 'off':
      user.enabled = false;
      return null;
    case 'nopass':
      user.noPassword = true;
      user.passwords.length = 0;
      return null;
    case 'resetpass':
      user.noPassword = false;
      user.passwords.length = 0;
      return null;
    case 'allcommands':
    case '+@all':
      user.rules = [{ allow: true, target: 'all' }];
      return null;
    case 'nocommands':
    case '-@all':
      user.rules = [{ allow: false, target: 'all' }];
      return null;
    case 'allkeys':
    case '~*':
    case 'allchannels':
    case '&*':
    case 'resetkeys':
    case 'resetchannels':
      return null;
    case 'reset':
      user.enabled = false;
      user.noPassword = false;
      user.passwords.length = 0;
      user.rules = [];
      return null;
  }
  const first = word[0];
  if (first === '>') {
    user.passwords.push(sha256(word.slice(1)));
    user.noPassword = false;
    return null;
  }
  if (first === '#') {
    if (!/^#[0-9a-fA-F]{64}$/.test(word)) return `"${word}": a password hash is # and 64 hex digits (SHA-256)`;
    user.passwords.push(Buffer.from(word.slice(1), 'hex'));
    user.noPassword = false;
    return null;
  }
  if (first === '+' || first === '-') {
    const target = lower.slice(1);
    if (!knowsTarget(target)) return `"${word}": unknown ${target.startsWith('@') ? 'command category' : 'command'}`;
    user.rules.push({ allow: first === '+', target });
    return null;
  }
  if (first === '~' || first === '%' || first === '&') {
    return `"${word}": key and channel patterns other than ~* and &* are not supported by Slotway (let the cluster's ACL enforce them)`;
  }
  return `unknown ACL rule "${word}"`;
}

export interface ClientAccessOptions {
  readonly requirepass: string;
  readonly usersFile: string;
  readonly denyCommands: readonly string[];
}

/**
 * The users clients may be, from the options, with --deny-commands applied to
 * `table`. Errors (an unreadable users file, a bad rule, an unknown command to
 * deny) are one line each; the CLI exits 2 on them.
 */
export function loadClientAccess(options: ClientAccessOptions, table: CommandTable): { users: UserDirectory; errors: string[] } {
  const errors: string[] = [];
  let usersText: string | null = null;
  if (options.usersFile !== '') {
    try {
      usersText = readFileSync(options.usersFile, 'utf8');
    } catch (error) {
      errors.push(`--users-file: cannot read "${options.usersFile}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  const created = UserDirectory.create(options.requirepass, usersText, (target) => table.knowsRuleTarget(target), options.usersFile);
  errors.push(...created.errors);
  for (const name of table.deny(options.denyCommands, deniedCommand)) errors.push(`--deny-commands: unknown command "${name}"`);
  return { users: created.directory, errors };
}
