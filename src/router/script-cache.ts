// Scripts Slotway saw loaded (SCRIPT LOAD), by SHA1, so that an EVALSHA that
// meets -NOSCRIPT (a new master after a failover, a node restarted empty) is
// answered by loading the script there and running it again, instead of
// surfacing an error the application did nothing to cause.
import { createHash } from 'node:crypto';

export class ScriptCache {
  readonly #scripts = new Map<string, Buffer>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#scripts.size;
  }

  remember(body: Buffer): void {
    if (this.#capacity === 0) return;
    const sha = createHash('sha1').update(body).digest('hex');
    this.#scripts.delete(sha);
    this.#scripts.set(sha, Buffer.from(body));
    // Map keeps insertion order: the first key is the least recently loaded.
    if (this.#scripts.size > this.#capacity) this.#scripts.delete(this.#scripts.keys().next().value as string);
  }

  /** SCRIPT FLUSH: the masters forget every script, and so does Slotway (EVALSHA must then fail as on Redis). */
  clear(): void {
    this.#scripts.clear();
  }

  body(sha: string): Buffer | undefined {
    return this.#scripts.get(sha.toLowerCase());
  }
}
