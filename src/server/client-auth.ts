// Who may talk to Slotway: `--requirepass` (the default user's password) and
// the users of `--users-file`, in the syntax of Redis's ACL file, checked with
// Redis 7.0's ACL semantics (acl-user.ts, rules in acl-rules.ts):
//
//   user app    on >s3cret ~app:* &app:* +@all -@dangerous
//   user reader on #<sha256 of the password> %R~* +@read +@connection
//   user ops    off
//   node-user app app-scripts <password of app-scripts on the nodes>
//
// A `node-user` line names the node ACL user (and its password) whose rights
// a Slotway user's scripts run with (User.nodeUser); its words are not ACL
// rules, so it cannot be mistaken for one.
import { readFileSync } from 'node:fs';
import type { CommandTable } from '../commands/command-table.js';
import { COMMAND_DATA } from '../commands/command-table.generated.js';
import type { CommandSpec } from '../commands/command-spec.js';
import { deniedCommand } from '../protocol/errors.js';
import { SELECTORS, applyRule, type RuleTable } from './acl-rules.js';
import { User, matchesDigest, sha256, type AdminCommands } from './acl-user.js';

export { User } from './acl-user.js';

/** Compared against when the user is unknown or off, so that costs what a wrong password costs. */
const DUMMY_DIGEST = sha256('slotway: no such user');

/** Everyone Slotway knows; `required` is false when no password is configured at all. */
export class UserDirectory implements AdminCommands {
  readonly #users = new Map<string, User>();
  readonly adminCommands: readonly CommandSpec[];
  /** The command table the rules were read against (ACL DRYRUN looks commands up in it). */
  readonly table: RuleTable & Pick<CommandTable, 'lookup'>;

  private constructor(table: RuleTable & Pick<CommandTable, 'lookup'>) {
    this.table = table;
    this.adminCommands = adminCommandsOf(table);
  }

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

  /** Every user, in name order (as ACL LIST and ACL USERS list them). */
  list(): User[] {
    return [...this.#users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * The user `name` authenticated by `password`, or null (unknown, disabled
   * or wrong password alike). Both are bytes as received (latin1 strings:
   * one character per byte). An unknown or disabled user's password is
   * hashed and compared all the same, so the answer takes as long.
   */
  authenticate(name: string, password: string): User | null {
    const user = this.#users.get(Buffer.from(name, 'latin1').toString('utf8'));
    const bytes = Buffer.from(password, 'latin1');
    if (user === undefined || !user.enabled) {
      matchesDigest([DUMMY_DIGEST], sha256(bytes));
      return null;
    }
    return user.checkPassword(bytes) ? user : null;
  }

  /**
   * Builds the directory from the options. Without either, the default user
   * is open to all as in a Redis without requirepass. Errors are one line
   * each, naming the file line.
   */
  static create(
    requirepass: string,
    usersText: string | null,
    table: RuleTable & Pick<CommandTable, 'lookup'>,
    usersLabel = 'users file',
  ): { directory: UserDirectory; errors: string[] } {
    const directory = new UserDirectory(table);
    const errors: string[] = [];
    const defaultUser = new User('default', directory);
    for (const rule of ['on', '~*', '&*', '+@all', requirepass === '' ? 'nopass' : `>${requirepass}`])
      applyRule(defaultUser, rule, table);
    directory.#users.set('default', defaultUser);
    if (usersText === null) return { directory, errors };

    const named = new Set<string>();
    const nodeUsers: { where: string; words: string[] }[] = [];
    const lines = usersText.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const words = (lines[i] as string)
        .trim()
        .split(/\s+/)
        .filter((word) => word !== '');
      if (words.length === 0 || (words[0] as string).startsWith('#')) continue;
      const where = `${usersLabel} line ${i + 1}`;
      if (words[0] === 'node-user') {
        nodeUsers.push({ where, words });
        continue;
      }
      if (words[0] !== 'user' || words.length < 2) {
        errors.push(`${where}: expected "user <name> [rules...]" or "node-user <user> <node ACL user> <password>"`);
        continue;
      }
      const name = words[1] as string;
      if (named.has(name)) {
        errors.push(`${where}: Duplicate user '${name}' found`);
        continue;
      }
      named.add(name);
      // A file that names the default user replaces what --requirepass said about it.
      const user = new User(name, directory);
      user.fromUsersFile = true;
      for (const word of words.slice(2)) {
        const problem = applyRule(user, word, table);
        if (problem === null) continue;
        errors.push(`${where}: Error in ACL rule '${word}': ${problem}`);
        if (problem === SELECTORS) break; // the rest of the line is the selector's
      }
      directory.#users.set(name, user);
    }
    for (const { where, words } of nodeUsers) {
      const problem = directory.#mapNodeUser(words);
      if (problem !== null) errors.push(`${where}: ${problem}`);
    }
    return { directory, errors };
  }

  /** `node-user <user> <node ACL user> <password>`. */
  #mapNodeUser(words: readonly string[]): string | null {
    if (words.length !== 4) return 'expected "node-user <user> <node ACL user> <password>"';
    const user = this.#users.get(words[1] as string);
    if (user === undefined) return `node-user: no user '${words[1]}' in this file`;
    if (user.nodeUser !== null) return `node-user: '${words[1]}' is mapped twice`;
    user.nodeUser = { name: words[2] as string, password: words[3] as string };
    return null;
  }
}

/** The specs of every @admin command and subcommand (an admin may run them all). */
function adminCommandsOf(table: RuleTable): CommandSpec[] {
  const specs: CommandSpec[] = [];
  for (const command of COMMAND_DATA) {
    for (const data of [command, ...command.subcommands]) {
      if (!data.categories.includes('admin')) continue;
      const spec = table.get(data.name);
      if (spec !== undefined) specs.push(spec);
    }
  }
  return specs;
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
export function loadClientAccess(
  options: ClientAccessOptions,
  table: CommandTable,
): { users: UserDirectory; errors: string[] } {
  const errors: string[] = [];
  let usersText: string | null = null;
  if (options.usersFile !== '') {
    try {
      usersText = readFileSync(options.usersFile, 'utf8');
    } catch (error) {
      errors.push(
        `--users-file: cannot read "${options.usersFile}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
  }
  const created = UserDirectory.create(options.requirepass, usersText, table, options.usersFile);
  errors.push(...created.errors);
  for (const name of table.deny(options.denyCommands, deniedCommand))
    errors.push(`--deny-commands: unknown command "${name}"`);
  return { users: created.directory, errors };
}
