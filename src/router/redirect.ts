// Reading the error replies that ask Slotway to act instead of the client:
//   -MOVED <slot> <host>:<port>   the slot lives elsewhere now: patch, resend
//   -ASK <slot> <host>:<port>     this key is mid-migration: ASKING + resend
//   -TRYAGAIN / -CLUSTERDOWN / -LOADING   transient: resend after a backoff
//   -UNBLOCKED ... instance state changed  a blocked command's master became
//                                 a replica (failover) before serving it: resend
// Only error replies reach here, so building strings is off the hot path.
import { AddressMap } from '../cluster/address-map.js';
import { parseAddress } from '../cluster/node-address.js';
import { SLOT_COUNT } from '../cluster/slot-map.js';

export const enum ErrorAction {
  /** An ordinary error: the client gets it. */
  Deliver = 0,
  Moved = 1,
  Ask = 2,
  Retry = 3,
  /** -NOSCRIPT: load the script where it is missing and run it again. */
  NoScript = 4,
}

export interface Redirect {
  readonly slot: number;
  readonly host: string;
  readonly port: number;
}

function startsWith(buffer: Buffer, start: number, end: number, prefix: string): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buffer[start + i] !== prefix.charCodeAt(i)) return false;
  return true;
}

/** Redis 7's words to clients blocked on a master that turns replica: nothing was popped, so waiting again at the new master is safe. */
const UNBLOCKED_BY_ROLE_CHANGE = '-UNBLOCKED force unblock from blocking operation, instance state changed';

/** What to do with the error reply buffer[start, end) (which begins with '-'). */
export function classifyError(buffer: Buffer, start: number, end: number): ErrorAction {
  if (startsWith(buffer, start, end, '-MOVED ')) return ErrorAction.Moved;
  if (startsWith(buffer, start, end, '-ASK ')) return ErrorAction.Ask;
  if (startsWith(buffer, start, end, '-NOSCRIPT')) return ErrorAction.NoScript;
  if (
    startsWith(buffer, start, end, '-TRYAGAIN') ||
    startsWith(buffer, start, end, '-CLUSTERDOWN') ||
    startsWith(buffer, start, end, '-LOADING') ||
    startsWith(buffer, start, end, UNBLOCKED_BY_ROLE_CHANGE)
  ) {
    return ErrorAction.Retry;
  }
  return ErrorAction.Deliver;
}

/**
 * Parses a MOVED/ASK line; null when malformed (then it is delivered as is).
 * An empty host (`-MOVED 3999 :6381`) means "the node that answered".
 */
export function parseRedirect(
  buffer: Buffer,
  start: number,
  end: number,
  answeredBy: string,
  addresses: AddressMap = AddressMap.IDENTITY,
): Redirect | null {
  const line = buffer.toString('latin1', start + 1, end - 2);
  const [, slotText, target] = line.split(' ');
  const slot = Number(slotText);
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT || target === undefined) return null;
  const emptyHost = target.lastIndexOf(':') === 0; // `:6381`, not `::1:6381`
  const resolved = emptyHost ? `${parseAddress(answeredBy)?.host ?? ''}${target}` : target;
  const address = parseAddress(resolved);
  if (address === null || address.host === '' || address.host === '?') return null;
  // `:port` already names the answering node's reachable host; only full addresses were announced.
  const reachable = emptyHost ? address : addresses.apply(address.host, address.port);
  return { slot, host: reachable.host, port: reachable.port };
}

/** The error line without '-' and CRLF, for messages and logs. */
export function errorText(buffer: Buffer, start: number, end: number): string {
  return buffer.toString('latin1', start + 1, Math.max(start + 1, end - 2));
}
