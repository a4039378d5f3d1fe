// The client-facing listener: accepts connections and gives each a Session.
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ProtocolLimits } from '../protocol/limits.js';
import { KeyIndices } from '../commands/command-spec.js';
import { CommandTable } from '../commands/command-table.js';
import type { Router } from '../router/router.js';
import type { LocalFacts } from './local-commands.js';
import type { ServerStats } from './server-stats.js';
import { Session, type SessionContext } from './session.js';

export interface ListenerOptions extends ProtocolLimits {
  readonly port: number;
  readonly bind: string;
  readonly maxPipeline: number;
  readonly maxWaitMs: number;
  readonly pubsubOutputLimit: number;
  readonly allowMonitor: boolean;
}

export class ProxyServer {
  readonly #server: Server;
  readonly #context: SessionContext;
  readonly #options: ListenerOptions;
  #nextId = 1;

  constructor(options: ListenerOptions, router: Router, stats: ServerStats, facts: LocalFacts, log: Logger) {
    this.#options = options;
    this.#context = {
      table: new CommandTable(),
      router,
      limits: options,
      maxPipeline: options.maxPipeline,
      maxWaitMs: options.maxWaitMs,
      pubsubOutputLimit: options.pubsubOutputLimit,
      allowMonitor: options.allowMonitor,
      log,
      stats,
      facts,
      keys: new KeyIndices(),
      batch: [],
    };
    this.#server = createServer({ noDelay: true }, this.#onConnection);
  }

  listen(): Promise<{ host: string; port: number }> {
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
    for (const session of this.#context.stats.sessions) session.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  readonly #onConnection = (socket: Socket): void => {
    const session = new Session(socket, this.#nextId++, this.#context);
    this.#context.stats.onClientOpened(session);
  };
}
