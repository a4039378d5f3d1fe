// The client-facing listener: accepts connections and gives each a Session.
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ProtocolLimits } from '../protocol/limits.js';
import { KeyIndices } from '../commands/command-spec.js';
import { CommandTable } from '../commands/command-table.js';
import { MasterInfo } from '../router/master-info.js';
import type { Router } from '../router/router.js';
import * as errors from '../protocol/errors.js';
import { errorReply } from '../protocol/resp-writer.js';
import { loadClientAccess, type ClientAccessOptions } from './client-auth.js';
import { ScriptIdentities } from './script-identity.js';
import type { LocalFacts } from './local-facts.js';
import type { ClientRecord, ServerStats } from './server-stats.js';
import { Session, readIntoSession, type SessionContext } from './session.js';
import { CommandDispatcher } from './command-dispatcher.js';
import { ClientRegistry } from './client-registry.js';
import { TlsListener, type TlsListenerOptions } from './tls-listener.js';
import { adoptClientSocket } from './client-socket.js';

export interface ListenerOptions extends ProtocolLimits, ClientAccessOptions, TlsListenerOptions {
  readonly maxClients: number;
  readonly idleTimeoutSeconds: number;
  readonly clientOutputLimit: number;
  readonly clientBufferLimit: number;
  readonly port: number;
  readonly bind: string;
  readonly maxPipeline: number;
  readonly maxWaitMs: number;
  readonly infoCacheMs: number;
  readonly pubsubOutputLimit: number;
  readonly allowMonitor: boolean;
  readonly maxAuthFailures: number;
  readonly closeLingerMs: number;
}

export class ProxyServer {
  readonly #server: Server;
  /** The --tls-port listener, or null when it is off. */
  readonly #tls: TlsListener | null;
  readonly #context: SessionContext;
  readonly #options: ListenerOptions;
  readonly #log: Logger;
  #nextId = 1;
  #idleSweep: NodeJS.Timeout | null = null;

  constructor(options: ListenerOptions, router: Router, stats: ServerStats, facts: LocalFacts, log: Logger) {
    this.#options = options;
    this.#log = log;
    const table = new CommandTable();
    const access = loadClientAccess(options, table);
    if (access.errors.length > 0) throw new Error(access.errors.join('; '));
    const keys = new KeyIndices();
    const clients = new ClientRegistry();
    this.#context = {
      dispatcher: new CommandDispatcher({
        table,
        router,
        facts,
        maxWaitMs: options.maxWaitMs,
        masterInfo: new MasterInfo(router, options.infoCacheMs),
        keys,
        buffers: stats.buffers,
        log,
        clients,
      }),
      table,
      router,
      limits: options,
      maxPipeline: options.maxPipeline,
      maxWaitMs: options.maxWaitMs,
      pubsubOutputLimit: options.pubsubOutputLimit,
      allowMonitor: options.allowMonitor,
      log,
      stats,
      facts,
      keys,
      batch: [],
      users: access.users,
      maxAuthFailures: options.maxAuthFailures,
      closeLingerMs: options.closeLingerMs,
      clientOutputLimit: options.clientOutputLimit,
      clientBufferLimit: options.clientBufferLimit,
      clock: { now: 0 },
      clients,
      scriptIdentities: new ScriptIdentities(
        options.denyCommands,
        (rules) => router.scriptUser(rules),
        (name, password) => router.existingScriptUser(name, password),
      ),
    };
    // Paused on accept: the handle moves to a socket that reads into a shared buffer (client-socket.ts).
    this.#server = createServer({ noDelay: true, pauseOnConnect: true }, this.#onPlainConnection);
    this.#tls = options.tlsPort > 0 ? new TlsListener(options, this.#onConnection, log) : null;
  }

  /** Listens on --port, then on --tls-port if set; tlsPort is 0 without a TLS listener. */
  listen(): Promise<{ host: string; port: number; tlsPort: number }> {
    if (this.#idleSweep === null && this.#options.idleTimeoutSeconds > 0) this.#startIdleSweep();
    const tls = this.#tls;
    return this.#listenPlain().then(async (address) => ({
      ...address,
      tlsPort: tls === null ? 0 : await tls.listen(),
    }));
  }

  /** Certificate files of the TLS listener (none without one), to watch. */
  get tlsFiles(): string[] {
    return this.#tls?.files ?? [];
  }

  /** Re-reads the TLS listener's files; false without a TLS listener; throws (keeping the old ones) when invalid. */
  reloadTls(): boolean {
    this.#tls?.reload();
    return this.#tls !== null;
  }

  #listenPlain(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port, this.#options.bind, () => {
        this.#server.off('error', reject);
        const address = this.#server.address();
        if (address === null || typeof address === 'string') reject(new Error('listener has no TCP address'));
        else resolve({ host: address.address, port: address.port });
      });
    });
  }

  /** Stops accepting and closes every client connection. */
  close(): Promise<void> {
    if (this.#idleSweep !== null) clearInterval(this.#idleSweep);
    for (const session of this.#context.stats.sessions) session.destroy();
    const tlsClosed = this.#tls?.close();
    return new Promise<void>((resolve) => this.#server.close(() => resolve())).then(() => tlsClosed);
  }

  /**
   * Graceful shutdown. Readiness turns false and the listener closes; every
   * client stops being read and is closed once the commands it already sent
   * are answered; clients blocked or subscribed (they wait on a node, not on
   * us) are closed last. Whatever is left at `timeoutMs` is closed then.
   */
  async drain(timeoutMs: number): Promise<void> {
    const stats = this.#context.stats;
    stats.draining = true;
    this.#server.close();
    void this.#tls?.close();
    const deadline = Date.now() + timeoutMs;
    const waiting = new Set<ClientRecord>();
    for (const session of stats.sessions) if (!session.drain()) waiting.add(session);
    this.#log.info({ clients: stats.sessions.size, waitingOnNodes: waiting.size, timeoutMs }, 'draining clients');
    const busy = (): boolean => [...stats.sessions].some((session) => !waiting.has(session));
    while (busy() && Date.now() < deadline) await sleep(DRAIN_POLL_MS);
    for (const session of stats.sessions) session.destroy();
    if (Date.now() >= deadline) this.#log.warn({ timeoutMs }, 'drain timed out; remaining clients closed');
  }

  readonly #onPlainConnection = (socket: Socket): void => {
    if (this.#refused(socket)) return;
    const client = adoptClientSocket(socket, readIntoSession);
    this.#context.stats.onClientOpened(new Session(client, this.#nextId++, this.#context, client !== socket));
  };

  readonly #onConnection = (socket: Socket): void => {
    if (!this.#refused(socket)) this.#context.stats.onClientOpened(new Session(socket, this.#nextId++, this.#context));
  };

  /** Over --maxclients or draining: the client gets the error and is closed. */
  #refused(socket: Socket): boolean {
    const stats = this.#context.stats;
    if (stats.draining || stats.sessions.size >= this.#options.maxClients) {
      stats.rejectedClients++;
      socket.on('error', ignore);
      socket.resume(); // read (and drop) until the client closes: a paused accepted socket would never see its EOF
      socket.end(stats.draining ? SHUTTING_DOWN : MAX_CLIENTS);
      if (!stats.draining)
        this.#log.warn(
          { maxClients: this.#options.maxClients, remote: socket.remoteAddress },
          'client refused: --maxclients reached',
        );
      return true;
    }
    return false;
  }

  /** --timeout: one coarse timer for all clients, never one per client. */
  #startIdleSweep(): void {
    const context = this.#context;
    const limitMs = this.#options.idleTimeoutSeconds * 1000;
    const tickMs = Math.min(1000, limitMs / 4);
    context.clock.now = Date.now();
    this.#idleSweep = setInterval(() => {
      const now = (context.clock.now = Date.now());
      for (const session of context.stats.sessions) {
        // lastActiveAt is stamped from this coarse clock, up to one tick early.
        if (now - session.lastActiveAt < limitMs + tickMs || session.holdsConnection || session.pendingReplies > 0)
          continue;
        session.log.info(
          { idleSeconds: Math.round((now - session.lastActiveAt) / 1000) },
          'closing idle client (--timeout)',
        );
        session.destroy();
      }
    }, tickMs);
    this.#idleSweep.unref();
  }
}

const MAX_CLIENTS = errorReply(errors.MAX_CLIENTS);
const SHUTTING_DOWN = errorReply('ERR Slotway is shutting down');
const DRAIN_POLL_MS = 10;

function ignore(): void {}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
