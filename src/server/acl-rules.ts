// ACL rules as Redis 7.0's ACL SETUSER applies them (acl.c ACLSetUser), one
// word at a time, left to right, with Redis's error sentences:
//
//   on off nopass resetpass >pw <pw #sha256 !sha256
//   ~pattern %R~pattern %W~pattern %RW~pattern allkeys resetkeys
//   &pattern allchannels resetchannels
//   +cmd -cmd +cmd|sub -cmd|sub +@category -@category allcommands nocommands
//   reset sanitize-payload skip-sanitize-payload clearselectors
//
// Not supported by Slotway (refused with one line naming the rule): selectors
// `(...)` and first-argument rules (`+select|0`, for a command that has no
// subcommands; deprecated in Redis).
import type { CommandSpec } from '../commands/command-spec.js';
import { KEY_READ, KEY_WRITE } from '../commands/acl-targets.js';
import { sha256, type User } from './acl-user.js';

/** What the rules need of the command table. CommandTable fits. */
export interface RuleTable {
  /** True for a command, container|subcommand or @category an ACL rule may name ('all' included). */
  knowsRuleTarget(target: string): boolean;
  get(name: string): CommandSpec | undefined;
}

const SYNTAX = 'Syntax error';
const UNKNOWN_TARGET = 'Unknown command or category name in ACL';
const KEYS_AFTER_ALL =
  "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
const CHANNELS_AFTER_ALL =
  "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";
const NO_SUCH_PASSWORD = 'The password you are trying to remove from the user does not exist';
const BAD_HASH = 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters';
const SUBCOMMAND_FIRST_ARG = 'Allowing first-arg of a subcommand is not supported';
const FIRST_ARG =
  'first-argument rules (+command|argument for a command without subcommands) are not supported by Slotway';
export const SELECTORS = 'selectors "(...)" are not supported by Slotway: give each user one set of rules';

/** Applies one rule word to `user`; null, or the reason it is refused. */
export function applyRule(user: User, word: string, table: RuleTable): string | null {
  const problem = applyOne(user, word, table);
  user.rulesChanged();
  return problem;
}

function applyOne(user: User, word: string, table: RuleTable): string | null {
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
    case 'sanitize-payload':
    case 'skip-sanitize-payload':
      user.sanitizePayload = lower;
      return null;
    case 'clearselectors':
      return null; // a user here never has selectors
    case 'allkeys':
      return addKeyPattern(user, '~*');
    case 'resetkeys':
      user.allKeys = false;
      user.keyPatterns.length = 0;
      return null;
    case 'allchannels':
      return addChannelPattern(user, '*');
    case 'resetchannels':
      user.allChannels = false;
      user.channelPatterns.length = 0;
      return null;
    case 'allcommands':
      return setCommandBase(user, true);
    case 'nocommands':
      return setCommandBase(user, false);
    case 'reset':
      applyOne(user, 'resetpass', table);
      applyOne(user, 'resetkeys', table);
      applyOne(user, 'resetchannels', table);
      applyOne(user, 'off', table);
      applyOne(user, 'sanitize-payload', table);
      return setCommandBase(user, false);
  }
  switch (word[0]) {
    case '>':
      addPassword(user, sha256(Buffer.from(word.slice(1), 'utf8')));
      return null;
    case '#': {
      const digest = parseDigest(word);
      if (digest === null) return BAD_HASH;
      addPassword(user, digest);
      return null;
    }
    case '<':
      return removePassword(user, sha256(Buffer.from(word.slice(1), 'utf8')));
    case '!': {
      const digest = parseDigest(word);
      return digest === null ? BAD_HASH : removePassword(user, digest);
    }
    case '~':
    case '%':
      return addKeyPattern(user, word);
    case '&':
      return addChannelPattern(user, word.slice(1));
    case '+':
    case '-':
      return addCommandRule(user, word[0] === '+', lower.slice(1), table);
    case '(':
      return SELECTORS;
    default:
      return SYNTAX;
  }
}

function parseDigest(word: string): Buffer | null {
  return /^[#!][0-9a-f]{64}$/.test(word) ? Buffer.from(word.slice(1), 'hex') : null;
}

function addPassword(user: User, digest: Buffer): void {
  user.noPassword = false;
  if (!user.passwords.some((stored) => stored.equals(digest))) user.passwords.push(digest);
}

function removePassword(user: User, digest: Buffer): string | null {
  const at = user.passwords.findIndex((stored) => stored.equals(digest));
  if (at < 0) return NO_SUCH_PASSWORD;
  user.passwords.splice(at, 1);
  return null;
}

/** `~p`, `%R~p`, `%W~p`, `%RW~p`; the same pattern twice merges its access (Redis keeps one). */
function addKeyPattern(user: User, word: string): string | null {
  if (user.allKeys) return KEYS_AFTER_ALL;
  let access = 0;
  let offset = 1;
  if (word[0] === '%') {
    for (; offset < word.length; offset++) {
      const c = (word[offset] as string).toUpperCase();
      if (c === 'R' && (access & KEY_READ) === 0) access |= KEY_READ;
      else if (c === 'W' && (access & KEY_WRITE) === 0) access |= KEY_WRITE;
      else if (c === '~' && access !== 0) break;
      else return SYNTAX;
    }
    if (offset === word.length) return SYNTAX; // no '~'
    offset++;
  } else {
    access = KEY_READ | KEY_WRITE;
  }
  const text = word.slice(offset);
  if (text === '*' && access === (KEY_READ | KEY_WRITE)) {
    user.allKeys = true;
    user.keyPatterns.length = 0;
    return null;
  }
  const existing = user.keyPatterns.find((pattern) => pattern.text === text);
  if (existing !== undefined) existing.access |= access;
  else user.keyPatterns.push({ text, bytes: Buffer.from(text, 'utf8'), access });
  return null;
}

function addChannelPattern(user: User, text: string): string | null {
  if (user.allChannels) return CHANNELS_AFTER_ALL;
  if (text === '*') {
    user.allChannels = true;
    user.channelPatterns.length = 0;
    return null;
  }
  if (!user.channelPatterns.some((pattern) => pattern.text === text))
    user.channelPatterns.push({ text, bytes: Buffer.from(text, 'utf8') });
  return null;
}

function setCommandBase(user: User, allow: boolean): null {
  user.commandBase = allow;
  user.commandRules = [];
  return null;
}

function addCommandRule(user: User, allow: boolean, target: string, table: RuleTable): string | null {
  if (target === '@all') return setCommandBase(user, allow);
  if (!target.startsWith('@')) {
    const parts = target.split('|');
    if (parts.length > 2) return SUBCOMMAND_FIRST_ARG;
    if (parts.length === 2) {
      const container = table.get(parts[0] as string);
      if (container === undefined) return UNKNOWN_TARGET;
      if (container.subcommands === null) return FIRST_ARG;
    }
  }
  if (!table.knowsRuleTarget(target)) return UNKNOWN_TARGET;
  user.commandRules.push({ allow, target });
  return null;
}
