// How Slotway proves itself to the nodes: AUTH credentials and TLS settings,
// shared by every node connection (backend) and topology query (discovery).
//
// The handshake bytes are encoded once, not per connection. The TLS context is
// built once and replaced whole by reload(): connections opened afterwards use
// the new one, open ones keep theirs.
import type { ConnectionOptions } from 'node:tls';
import { encodeCommand } from '../protocol/resp-writer.js';
import { loadPem, pemPaths, type PemFiles } from '../util/tls-files.js';
import { ScriptUser } from './script-user.js';

export interface NodeSecuritySettings {
  /** ACL user; '' = the default user (AUTH with the password alone). */
  readonly clusterUser: string;
  /** '' = no AUTH. */
  readonly clusterPassword: string;
  readonly clusterTls: boolean;
  readonly clusterTlsCa: string;
  readonly clusterTlsCert: string;
  readonly clusterTlsKey: string;
  /** SNI and the name checked against node certificates; '' = the address connected to. */
  readonly clusterTlsServername: string;
}

/** What ioredis needs for the same TLS (topology queries); AUTH is sent explicitly (authArguments). */
export interface RedisSecurityOptions {
  tls?: ConnectionOptions;
}

export class NodeSecurity {
  /** `AUTH [user] password`, or null without a password. */
  readonly #auth: Buffer | null;
  /** `HELLO 3 [AUTH user password]`: RESP3 connections authenticate in the same command. */
  readonly #hello3: Buffer;
  readonly #user: string;
  readonly #password: string;
  readonly #files: PemFiles | null;
  readonly #servername: string;
  #tls: Readonly<ConnectionOptions> | null = null;
  /** Script users made so far, by rule text (a handful: one per distinct rule set). */
  readonly #scriptUsers = new Map<string, ScriptUser>();

  /** Throws when TLS files cannot be read or do not make a context. */
  constructor(settings: NodeSecuritySettings) {
    this.#user = settings.clusterUser;
    this.#password = settings.clusterPassword;
    if (this.#user !== '' && this.#password === '') throw new Error('--cluster-user needs --cluster-password');
    const user = this.#user === '' ? 'default' : this.#user;
    this.#auth =
      this.#password === ''
        ? null
        : encodeCommand(this.#user === '' ? ['AUTH', this.#password] : ['AUTH', this.#user, this.#password]);
    this.#hello3 = encodeCommand(this.#password === '' ? ['HELLO', '3'] : ['HELLO', '3', 'AUTH', user, this.#password]);
    this.#servername = settings.clusterTlsServername;
    this.#files = settings.clusterTls
      ? { cert: settings.clusterTlsCert, key: settings.clusterTlsKey, ca: settings.clusterTlsCa }
      : null;
    if (this.#files !== null) this.#tls = this.#load(this.#files);
  }

  /** The command a new connection writes before any other, or null when it needs none. */
  handshake(resp3: boolean): Buffer | null {
    return resp3 ? this.#hello3 : this.#auth;
  }

  /** The node ACL user that runs scripts with `rules` (cluster/script-user.ts); its password derives from these credentials. */
  scriptUser(rules: string): ScriptUser {
    let user = this.#scriptUsers.get(rules);
    if (user === undefined) {
      user = new ScriptUser(rules, this.#user, this.#password);
      this.#scriptUsers.set(rules, user);
    }
    return user;
  }

  /** A node ACL user the operator made (users-file `node-user` line): scripts authenticate as it, nothing is created. */
  existingScriptUser(name: string, password: string): ScriptUser {
    const key = `node-user\u0000${name}\u0000${password}`;
    let user = this.#scriptUsers.get(key);
    if (user === undefined) {
      user = new ScriptUser(`(node user ${name})`, this.#user, this.#password, { name, password });
      this.#scriptUsers.set(key, user);
    }
    return user;
  }

  /** Options for tls.connect (add host and port), or null for plain TCP. */
  get tls(): Readonly<ConnectionOptions> | null {
    return this.#tls;
  }

  /** The PEM files in use, to watch for changes. */
  get files(): string[] {
    return this.#files === null ? [] : pemPaths(this.#files);
  }

  redisOptions(): RedisSecurityOptions {
    return this.#tls === null ? {} : { tls: { ...this.#tls } };
  }

  /**
   * AUTH's arguments for an ioredis client, or null without a password.
   * Sent explicitly rather than as ioredis's password option: ioredis turns a
   * refused AUTH into "Connection is closed", and the operator needs WRONGPASS.
   */
  authArguments(): string[] | null {
    if (this.#password === '') return null;
    return this.#user === '' ? [this.#password] : [this.#user, this.#password];
  }

  /**
   * Re-reads the TLS files for connections opened from now on. Throws (and
   * keeps the current context) when they are unreadable or invalid; false
   * when TLS is off and there is nothing to reload.
   */
  reload(): boolean {
    if (this.#files === null) return false;
    this.#tls = this.#load(this.#files);
    return true;
  }

  #load(files: PemFiles): Readonly<ConnectionOptions> {
    const { context } = loadPem(files);
    // Without a servername Node sends the host as SNI (none for an IP) and checks the certificate against the host.
    return Object.freeze(
      this.#servername === '' ? { secureContext: context } : { secureContext: context, servername: this.#servername },
    );
  }
}
