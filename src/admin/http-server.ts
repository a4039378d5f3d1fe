// The operator's HTTP port (--metrics-port):
//   GET /metrics   Prometheus text exposition
//   GET /healthz   200 "ok" while the process runs (liveness)
//   GET /readyz    200 "ready", or 503 and one line saying why not (readiness)
// Anything else is 404; another method on these paths is 405.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Readiness } from './readiness.js';

export interface HttpSources {
  /** The exposition and its Content-Type. */
  metrics(): Promise<{ readonly contentType: string; readonly text: string }>;
  readiness(): Readiness | Promise<Readiness>;
}

const TEXT = 'text/plain; charset=utf-8';

export class AdminHttpServer {
  readonly #server: Server;
  readonly #sources: HttpSources;
  readonly #log: Logger;

  constructor(sources: HttpSources, log: Logger) {
    this.#sources = sources;
    this.#log = log;
    this.#server = createServer(this.#onRequest);
    // Probes and scrapes are short; a connection left open must not hold a shutdown.
    this.#server.keepAliveTimeout = 5000;
  }

  /** Resolves with the bound port (the one picked when `port` is 0). */
  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const failed = (error: Error): void =>
        reject(new Error(`cannot listen on ${host}:${port} for metrics and health checks: ${error.message}`));
      this.#server.once('error', failed);
      this.#server.listen(port, host, () => {
        this.#server.off('error', failed);
        const address = this.#server.address();
        if (address === null || typeof address === 'string') reject(new Error('metrics listener has no TCP address'));
        else resolve(address.port);
      });
    });
  }

  close(): Promise<void> {
    if (!this.#server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  readonly #onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz')
      return send(response, 404, TEXT, 'not found: try /metrics, /healthz or /readyz\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return send(response, 405, TEXT, 'method not allowed\n');
    }
    const head = request.method === 'HEAD';
    if (path === '/healthz') return send(response, 200, TEXT, 'ok\n', head);
    if (path === '/readyz') {
      void Promise.resolve(this.#sources.readiness()).then(
        (readiness) => send(response, readiness.ready ? 200 : 503, TEXT, `${readiness.reason}\n`, head),
        (error: unknown) => send(response, 503, TEXT, `readiness unknown: ${(error as Error).message}\n`, head),
      );
      return;
    }
    this.#sources.metrics().then(
      ({ contentType, text }) => send(response, 200, contentType, text, head),
      (error: unknown) => {
        this.#log.warn({ error: (error as Error).message }, 'metrics scrape failed');
        send(response, 500, TEXT, `metrics unavailable: ${(error as Error).message}\n`, head);
      },
    );
  };
}

function send(response: ServerResponse, status: number, contentType: string, body: string, headOnly = false): void {
  if (response.destroyed) return;
  response.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  response.end(headOnly ? undefined : body);
}
