// Hot reload of TLS certificates: on SIGHUP (src/cli.ts), on proxy.reloadTls(),
// and when a watched certificate, key or CA file changes. Each part rebuilds
// its own context; a part whose new files are invalid keeps its old context.
// One log line per reload: info when every part reloaded, error otherwise.
import type { Logger } from 'pino';
import { FileWatcher } from './util/tls-files.js';

/** Something holding a TLS context built from files. */
export interface TlsPart {
  readonly name: string;
  readonly files: readonly string[];
  /** Rebuilds from the files: false when it has no TLS; throws when the files are invalid. */
  reload(): boolean;
}

export class TlsReloader {
  readonly #parts: readonly TlsPart[];
  readonly #log: Logger;
  readonly #watchIntervalMs: number;
  #watcher: FileWatcher | null = null;

  constructor(parts: readonly TlsPart[], log: Logger, watchIntervalMs: number) {
    this.#parts = parts;
    this.#log = log;
    this.#watchIntervalMs = watchIntervalMs;
  }

  /** Starts watching the files (no-op without any, or when already watching). */
  watch(): void {
    const files = this.#parts.flatMap((part) => part.files);
    if (this.#watcher !== null || files.length === 0) return;
    this.#watcher = new FileWatcher(files, this.#watchIntervalMs, () => this.reload('file changed'));
  }

  /** Reloads every part; true when none failed. */
  reload(reason: string): boolean {
    const reloaded: string[] = [];
    const failed: Record<string, string> = {};
    for (const part of this.#parts) {
      try {
        if (part.reload()) reloaded.push(part.name);
      } catch (error) {
        failed[part.name] = (error as Error).message;
      }
    }
    if (Object.keys(failed).length > 0) {
      this.#log.error(
        { reason, reloaded, failed },
        'TLS reload failed; the previous certificates stay in use where the new files were invalid',
      );
      return false;
    }
    this.#log.info(
      { reason, reloaded },
      reloaded.length > 0 ? 'TLS certificates reloaded' : 'TLS reload: TLS is not configured',
    );
    return true;
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = null;
  }
}
