// The ACL user a node runs a client's scripts as. Redis checks every
// redis.call of a script against the user of the connection that sent it, so
// a script sent on Slotway's own connection could run FLUSHALL although
// --deny-commands refuses it to clients. Scripts of a client whose rights are
// narrower than Slotway's go instead on a connection that first makes sure
// the node has a user with exactly those rights, then authenticates as it:
//
//   [AUTH slotway ...]                       Slotway's own node user (if any)
//   ACL SETUSER slotway-script-1a2b3c4d5e6f reset on ><pw> ~* &* +@all -flushall ...
//   AUTH slotway-script-1a2b3c4d5e6f <pw>
//   EVAL ... / FCALL ...                     only once both answered +OK
//
// Name and password follow from the rules (and the node credentials) alone:
// every Slotway pod with the same configuration converges on the same user,
// and ACL SETUSER with `reset` is idempotent, so whoever connects first or
// last leaves the same user behind. ACL is not replicated: this happens per
// node, replicas included.
import { createHash, createHmac } from 'node:crypto';
import { encodeCommand } from '../protocol/resp-writer.js';

const NAME_PREFIX = 'slotway-script-';

/** `slotway-script-` and the first 12 hex digits of SHA-256(rules). */
export function scriptUserName(rules: string): string {
  return NAME_PREFIX + createHash('sha256').update(rules).digest('hex').slice(0, 12);
}

/**
 * HMAC-SHA256 keyed by the node credentials over the rules: the same on every
 * pod with those credentials, unguessable without them. Never empty, so the
 * user is never `nopass` (a node without a password admits anyone as its
 * default user anyway).
 */
export function scriptUserPassword(nodeUser: string, nodePassword: string, rules: string): string {
  return createHmac('sha256', `${nodeUser}\u0000${nodePassword}`)
    .update(`slotway script user\u0000${rules}`)
    .digest('hex');
}

export class ScriptUser {
  /** Canonical ACL rule text (keys, channels, commands), e.g. `~* &* +@all -flushall`. */
  readonly rules: string;
  readonly name: string;
  /** `ACL SETUSER <name> reset on ><password> <rules...>`: one atomic command; null for a node user the operator made. */
  readonly setUser: Buffer | null;
  /** `AUTH <name> <password>` (valid in RESP2 and RESP3 alike). */
  readonly auth: Buffer;

  constructor(
    rules: string,
    nodeUser: string,
    nodePassword: string,
    existing: { name: string; password: string } | null = null,
  ) {
    this.rules = rules;
    if (existing !== null) {
      // The users file maps the client to a node ACL user of the operator's: authenticate as it, change nothing.
      this.name = existing.name;
      this.setUser = null;
      this.auth = encodeCommand(['AUTH', existing.name, existing.password]);
      return;
    }
    this.name = scriptUserName(rules);
    const password = scriptUserPassword(nodeUser, nodePassword, rules);
    const words = rules.split(' ').filter((word) => word !== '');
    this.setUser = encodeCommand(['ACL', 'SETUSER', this.name, 'reset', 'on', `>${password}`, ...words]);
    this.auth = encodeCommand(['AUTH', this.name, password]);
  }
}
