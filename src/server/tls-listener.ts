// The TLS listener beside the plain one (--tls-port, as Redis's tls-port):
// the same sessions, on TLS sockets (a TLSSocket is a net.Socket). With
// --tls-ca, clients must present a certificate that CA signed, as Redis's
// tls-auth-clients yes.
//
// Certificates are replaced in place (setSecureContext): handshakes from then
// on present the new one, connections already open keep theirs.
import type { Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { loadPem, pemPaths, type PemFiles } from '../util/tls-files.js';

export interface TlsListenerOptions {
  /** > 0: the port to listen on (0 = no TLS listener; never ephemeral here). */
  readonly tlsPort: number;
  readonly tlsCert: string;
  readonly tlsKey: string;
  /** '' = client certificates are not asked for. */
  readonly tlsCa: string;
  readonly bind: string;
}

export class TlsListener {
  readonly #server: Server;
  readonly #files: PemFiles;
  readonly #options: TlsListenerOptions;

  /** Throws when the certificate files are unreadable or do not make a context. */
  constructor(options: TlsListenerOptions, onConnection: (socket: Socket) => void, log: Logger) {
    this.#options = options;
    this.#files = { cert: options.tlsCert, key: options.tlsKey, ca: options.tlsCa };
    const { options: pem } = loadPem(this.#files);
    const verifyClients = options.tlsCa !== '';
    this.#server = createServer(
      { ...pem, requestCert: verifyClients, rejectUnauthorized: verifyClients, noDelay: true },
      onConnection,
    );
    // A failed handshake (a plain client on the TLS port, a certificate we do not trust) never becomes a session.
    this.#server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      log.debug({ remote: socket.remoteAddress, error: error.message }, 'TLS handshake with a client failed');
    });
  }

  /** The PEM files in use, to watch for changes. */
  get files(): string[] {
    return pemPaths(this.#files);
  }

  /** Resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.tlsPort, this.#options.bind, () => {
        this.#server.off('error', reject);
        const address = this.#server.address();
        if (address === null || typeof address === 'string') reject(new Error('TLS listener has no TCP address'));
        else resolve(address.port);
      });
    });
  }

  /** Re-reads the files for new handshakes; throws (keeping the current ones) when they are invalid. */
  reload(): void {
    this.#server.setSecureContext(loadPem(this.#files).options);
  }

  /** Stops accepting; resolves once the sessions it accepted are gone too (net.Server#close semantics). */
  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
