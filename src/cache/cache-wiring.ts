// How --cache joins the invalidation links (router/invalidation-links.ts):
// the links tell both sinks (the tracking table and the cache), and they run
// for the proxy's whole life instead of only while some client tracks.
import type { InvalidationSink, InvalidationSource } from '../router/invalidation-links.js';

/** Tells every sink of each report, in order. */
export class InvalidationFanOut implements InvalidationSink {
  readonly #sinks: readonly InvalidationSink[];

  constructor(sinks: readonly InvalidationSink[]) {
    this.#sinks = sinks;
  }

  onInvalidate(keys: readonly Buffer[] | null): void {
    for (const sink of this.#sinks) sink.onInvalidate(keys);
  }
}

/**
 * The links as the tracking table sees them when the cache keeps them
 * running: started once here, never stopped by the table (its last client
 * leaving), only by close() when the proxy closes.
 */
export class KeptRunning implements InvalidationSource {
  readonly #source: InvalidationSource;

  constructor(source: InvalidationSource) {
    this.#source = source;
    source.start();
  }

  start(): void {}

  stop(): void {}

  whenReady(timeoutMs: number): Promise<void> | null {
    return this.#source.whenReady(timeoutMs);
  }

  close(): void {
    this.#source.stop();
  }
}
