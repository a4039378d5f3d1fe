// ACL subcommands Slotway answers from its users file, in Redis 7.0's reply
// shapes: WHOAMI, CAT, USERS, GETUSER, LIST, DRYRUN, GENPASS, HELP. Changes
// (SETUSER, DELUSER, LOAD, SAVE) are refused: users come from --users-file;
// so is LOG: Slotway keeps none.
//
// The session has checked the command rules already (ACL LIST needs +@admin
// or +acl|list, as in Redis). On top of Redis, what shows other users (ACL
// LIST, USERS, DRYRUN, another user's GETUSER) needs an admin (User.isAdmin):
// a user whose rules allow just `+acl|getuser` reads only its own rules.
import { randomBytes } from 'node:crypto';
import { argumentText, argument } from '../commands/command-args.js';
import type { CommandArgs } from '../commands/command-spec.js';
import { KeyIndices } from '../commands/command-spec.js';
import { COMMAND_DATA } from '../commands/command-table.generated.js';
import { SLOTWAY_COMMANDS } from '../commands/slotway-commands.js';
import * as errors from '../protocol/errors.js';
import {
  NULL_BULK,
  NULL_RESP3,
  OK,
  arrayReply,
  bulkString,
  errorReply,
  mapReply,
  setReply,
} from '../protocol/resp-writer.js';
import { parseInteger } from '../protocol/stream-framer.js';
import { Denial, type User } from './acl-user.js';
import type { UserDirectory } from './client-auth.js';

/** Redis 7.0's categories, in ACL CAT's order. */
const CATEGORIES = [
  'keyspace',
  'read',
  'write',
  'set',
  'sortedset',
  'list',
  'hash',
  'string',
  'bitmap',
  'hyperloglog',
  'geo',
  'stream',
  'pubsub',
  'admin',
  'fast',
  'slow',
  'blocking',
  'dangerous',
  'connection',
  'transaction',
  'scripting',
];

const HELP = [
  'ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CAT [<category>]',
  '    List all commands that belong to <category>, or all command categories',
  '    when no category is specified.',
  'DRYRUN <username> <command> [<arg> ...]',
  '    Returns whether the user can execute the given command without executing the command.',
  'GETUSER <username>',
  "    Get the user's details.",
  'GENPASS [<bits>]',
  '    Generate a secure 256-bit user password. The optional `bits` argument can',
  '    be used to specify a different size.',
  'LIST',
  '    Show users details in config file format.',
  'USERS',
  '    List all the registered usernames.',
  'WHOAMI',
  '    Return the current connection username.',
  'HELP',
  '    Print this help.',
  'Slotway: SETUSER, DELUSER, LOAD, SAVE and LOG are not available; users come from --users-file.',
];

/** Scratch for DRYRUN's key check. */
const dryRunKeys = new KeyIndices();

/** ACL WHOAMI. */
export function aclWhoAmI(user: User | null): Buffer {
  return bulkString(user?.name ?? 'default');
}

/** ACL CAT [category]. */
export function aclCat(args: CommandArgs): Buffer {
  return args.argc === 2 ? arrayReply(CATEGORIES.map((c) => bulkString(c))) : category(argumentText(args, 2));
}

/** ACL USERS (admin). */
export function aclUsers(user: User | null, directory: UserDirectory): Buffer {
  if (user === null || !user.isAdmin) return errorReply(adminOnly('USERS'));
  return arrayReply(directory.list().map((u) => bulkString(u.name)));
}

/** ACL GETUSER name: one's own, or anyone's for an admin. */
export function aclGetUser(user: User | null, directory: UserDirectory, args: CommandArgs, resp3: boolean): Buffer {
  return getUser(user, directory, argumentText(args, 2, 'utf8'), resp3);
}

/** ACL LIST (admin). */
export function aclList(user: User | null, directory: UserDirectory): Buffer {
  if (user === null || !user.isAdmin) return errorReply(adminOnly('LIST'));
  return arrayReply(directory.list().map((u) => bulkString(`user ${u.name} ${u.aclRulesText()}`)));
}

/** ACL DRYRUN user command [arg ...] (admin). */
export function aclDryRun(user: User | null, directory: UserDirectory, args: CommandArgs): Buffer {
  return dryRun(user, directory, args);
}

/** ACL GENPASS [bits]. */
export function aclGenPass(args: CommandArgs): Buffer {
  return genpass(args);
}

/** ACL HELP, with what Slotway does not offer. */
export function aclHelp(): Buffer {
  return arrayReply(HELP.map((line) => bulkString(line)));
}

/** ACL CAT <category>: its commands and subcommands, as `container|sub`. */
function category(name: string): Buffer {
  const lower = name.toLowerCase();
  if (!CATEGORIES.includes(lower)) return errorReply(`ERR Unknown category '${name}'`);
  const names: Buffer[] = [];
  for (const command of [...COMMAND_DATA, ...SLOTWAY_COMMANDS]) {
    if (command.categories.includes(lower)) names.push(bulkString(command.name));
    for (const sub of command.subcommands) if (sub.categories.includes(lower)) names.push(bulkString(sub.name));
  }
  return arrayReply(names);
}

/** What a user whose rules allow the subcommand, but who is no admin (User.isAdmin), is told. */
function adminOnly(what: string): string {
  return `NOPERM ACL ${what} through Slotway needs an admin user (one whose rules allow every @admin command)`;
}

function getUser(user: User | null, directory: UserDirectory, name: string, resp3: boolean): Buffer {
  if (user === null || (name !== user.name && !user.isAdmin)) return errorReply(adminOnly('GETUSER of another user'));
  const target = directory.get(name);
  if (target === undefined) return resp3 ? NULL_RESP3 : NULL_BULK;
  const flags = target.flags().map((flag) => bulkString(flag));
  return (resp3 ? mapReply : arrayReply)([
    bulkString('flags'),
    resp3 ? setReply(flags) : arrayReply(flags),
    bulkString('passwords'),
    arrayReply(target.passwords.map((digest) => bulkString(digest.toString('hex')))),
    bulkString('commands'),
    bulkString(target.commandsText()),
    bulkString('keys'),
    bulkString(target.keysText()),
    bulkString('channels'),
    bulkString(target.channelsText()),
    bulkString('selectors'),
    arrayReply([]),
  ]);
}

/** ACL DRYRUN <user> <command> [args]: +OK, or why not as a bulk string in Redis's words. */
function dryRun(user: User | null, directory: UserDirectory, args: CommandArgs): Buffer {
  if (user === null || !user.isAdmin) return errorReply(adminOnly('DRYRUN'));
  const name = argumentText(args, 2, 'utf8');
  const target = directory.get(name);
  if (target === undefined) return errorReply(`ERR User '${name}' not found`);
  // The command under test: the arguments from the third on, viewed in place.
  const command: CommandArgs = {
    frameBuffer: args.frameBuffer,
    argc: args.argc - 3,
    argStart: args.argStart.subarray(3),
    argEnd: args.argEnd.subarray(3),
  };
  const spec = directory.table.lookup(command);
  if (spec.name === '' || (spec.subcommands !== null && command.argc > 1)) {
    return errorReply(`ERR Command '${argumentText(command, 0, 'utf8')}' not found`);
  }
  if ((spec.arity > 0 && command.argc !== spec.arity) || command.argc < -spec.arity)
    return errorReply(errors.wrongArity(spec.name));
  switch (target.deny(spec, command, dryRunKeys)) {
    case Denial.None:
      return OK;
    case Denial.Command:
      return bulkString(`This user has no permissions to run the '${spec.name}' command`);
    case Denial.Key:
      return bulkString(
        `This user has no permissions to access the '${argument(command, target.deniedArgument).toString('utf8')}' key`,
      );
    case Denial.Channel:
      return bulkString(
        `This user has no permissions to access the '${argument(command, target.deniedArgument).toString('utf8')}' channel`,
      );
  }
}

/** ACL GENPASS [bits]: random hex, bits/4 characters rounded up (default 256 bits). */
function genpass(args: CommandArgs): Buffer {
  let bits = 256;
  if (args.argc > 2) {
    bits = parseInteger(args.frameBuffer, args.argStart[2] as number, args.argEnd[2] as number);
    if (Number.isNaN(bits) || bits <= 0 || bits > 4096)
      return errorReply(
        'ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096',
      );
  }
  const chars = Math.ceil(bits / 4);
  return bulkString(
    randomBytes(Math.ceil(chars / 2))
      .toString('hex')
      .slice(0, chars),
  );
}
