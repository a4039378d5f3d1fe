// A bare RESP connection for tests that must see exact bytes (RESP3 maps,
// pushes, replies a client library would hide). Frames are split with the
// reply framer; what they contain is compared with what a real node sends.
import { connect, type Socket } from 'node:net';
import { TLSSocket, connect as connectTls, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { ReplyFramer } from '../../src/protocol/reply-framer.js';
import { encodeCommand } from '../../src/protocol/resp-writer.js';
import { Frame } from '../../src/protocol/stream-framer.js';

export class RespSocket {
  readonly #socket: Socket;
  readonly #framer = new ReplyFramer();
  readonly #frames: Buffer[] = [];
  #waiter: (() => void) | null = null;
  closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#framer.push(chunk);
      while (this.#framer.next() === Frame.Ready) {
        this.#frames.push(
          Buffer.from(this.#framer.frameBuffer.subarray(this.#framer.frameStart, this.#framer.frameEnd)),
        );
      }
      this.#waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#waiter?.();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RespSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => resolve(new RespSocket(socket)));
      socket.once('error', reject);
    });
  }

  /** Over TLS (ca, cert, key... in `options`); resolves once the handshake is done. */
  static connectTls(port: number, options: ConnectionOptions, host = '127.0.0.1'): Promise<RespSocket> {
    return new Promise((resolve, reject) => {
      const socket = connectTls({ ...options, port, host }, () => resolve(new RespSocket(socket)));
      socket.once('error', reject);
    });
  }

  /** The certificate the server presented (TLS only). */
  peerCertificate(): PeerCertificate | null {
    return this.#socket instanceof TLSSocket ? this.#socket.getPeerCertificate() : null;
  }

  send(...args: (string | Buffer)[]): void {
    this.#socket.write(encodeCommand(args));
  }

  /** The next whole reply or push, as bytes; rejects after `timeoutMs`. */
  async next(timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.#frames.length === 0) {
      if (this.closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = null;
    }
    return this.#frames.shift() as Buffer;
  }

  /** Sends a command and returns its reply as text (CRLFs kept). */
  async call(...args: (string | Buffer)[]): Promise<string> {
    this.send(...args);
    return (await this.next()).toString();
  }

  /** Frames received and not yet read. */
  get buffered(): number {
    return this.#frames.length;
  }

  close(): void {
    this.#socket.destroy();
  }
}
