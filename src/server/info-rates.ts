// INFO's instantaneous_* figures of Slotway's own: the rate of a counter
// between two readings at least a second apart. Read at INFO time only, so
// nothing runs when no one asks; a tool polling once a second (redis-cli
// --stat) sees the last second, a rarer reader the average since its last look.
import type { ServerStats } from './server-stats.js';

/** One counter's rate per second, from the previous reading. */
class Rate {
  #count = 0;
  #at = Number.NaN;
  #perSecond = 0;

  read(count: number, now: number): number {
    if (Number.isNaN(this.#at)) {
      this.#count = count;
      this.#at = now;
      return 0;
    }
    const elapsed = now - this.#at;
    if (elapsed >= MIN_INTERVAL_MS) {
      this.#perSecond = ((count - this.#count) * 1000) / elapsed;
      this.#count = count;
      this.#at = now;
    }
    return this.#perSecond;
  }
}

export class InfoRates {
  readonly #ops = new Rate();
  readonly #input = new Rate();
  readonly #output = new Rate();

  /** Commands per second, and KB/s read from and written to clients. */
  read(stats: ServerStats, now: number): { opsPerSec: number; inputKbps: number; outputKbps: number } {
    return {
      opsPerSec: Math.round(this.#ops.read(stats.commands, now)),
      inputKbps: this.#input.read(stats.bytesIn, now) / 1024,
      outputKbps: this.#output.read(stats.bytesOut, now) / 1024,
    };
  }
}

const MIN_INTERVAL_MS = 1000;
const byStats = new WeakMap<ServerStats, InfoRates>();

/** The rates of one server's counters (one per ServerStats, shared by its sessions). */
export function infoRates(stats: ServerStats): InfoRates {
  let rates = byStats.get(stats);
  if (rates === undefined) byStats.set(stats, (rates = new InfoRates()));
  return rates;
}
