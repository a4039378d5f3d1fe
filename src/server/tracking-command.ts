// CLIENT TRACKING, TRACKINGINFO, CACHING and GETREDIR as Redis 7 answers
// them, over Slotway's own tracking table (tracking-table.ts): same options,
// same checks in the same order, same error texts.
import { argument, argumentText } from '../commands/command-args.js';
import type { CommandArgs } from '../commands/command-spec.js';
import * as errors from '../protocol/errors.js';
import { OK, arrayReply, bulkString, errorReply, integerReply, mapReply, setReply } from '../protocol/resp-writer.js';
import { parseInteger } from '../protocol/stream-framer.js';
import { ClientTracking, type TrackingClient, type TrackingTable } from './tracking-table.js';

/** What the tracking subcommands need of their client. */
export interface TrackingHost extends TrackingClient {
  /** A client of this Slotway by its CLIENT ID (a REDIRECT target). */
  findClient(id: number): TrackingClient | undefined;
}

/** CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]. */
export function clientTracking(host: TrackingHost, args: CommandArgs, table: TrackingTable): Buffer {
  const mode = { bcast: false, optin: false, optout: false, noloop: false };
  const prefixes: string[] = [];
  let redirect: TrackingClient | null = null;
  let redirectId = 0;
  for (let i = 3; i < args.argc; i++) {
    const option = argumentText(args, i).toLowerCase();
    const more = i + 1 < args.argc;
    if (option === 'redirect' && more) {
      if (redirectId !== 0) return errorReply(errors.TRACKING_ONE_REDIRECT);
      redirectId = parseInteger(args.frameBuffer, args.argStart[++i] as number, args.argEnd[i] as number);
      if (Number.isNaN(redirectId)) return errorReply(errors.NOT_INTEGER);
      redirect = host.findClient(redirectId) ?? null;
      if (redirect === null) return errorReply(errors.TRACKING_NO_REDIRECT_CLIENT);
    } else if (option === 'bcast' || option === 'optin' || option === 'optout' || option === 'noloop') {
      mode[option] = true;
    } else if (option === 'prefix' && more) {
      prefixes.push(argument(args, ++i).toString('latin1'));
    } else {
      return errorReply(errors.SYNTAX);
    }
  }
  const onOff = argumentText(args, 2).toLowerCase();
  if (onOff === 'off') {
    table.disable(host);
    return OK;
  }
  if (onOff !== 'on') return errorReply(errors.SYNTAX);
  const refusal = modeRefusal(host.tracking, mode, prefixes);
  if (refusal !== null) return errorReply(refusal);
  const current = host.tracking;
  // ON again keeps the mode and its prefixes; NOLOOP and REDIRECT are as this call says, as in Redis.
  const tracking = current ?? new ClientTracking(mode);
  tracking.noloop = mode.noloop;
  tracking.redirect = redirect;
  tracking.redirectId = redirectId;
  for (const prefix of prefixes) if (!tracking.prefixes.includes(prefix)) tracking.prefixes.push(prefix);
  if (current === null) table.enable(host, tracking);
  return OK;
}

/** Redis's checks of CLIENT TRACKING ON, in its order; null when the options are accepted. */
function modeRefusal(
  current: ClientTracking | null,
  mode: { bcast: boolean; optin: boolean; optout: boolean },
  prefixes: readonly string[],
): string | null {
  if (!mode.bcast && prefixes.length > 0) return errors.TRACKING_PREFIX_NEEDS_BCAST;
  if (current !== null && current.bcast !== mode.bcast) return errors.TRACKING_SWITCH_BCAST;
  if (mode.bcast && (mode.optin || mode.optout)) return errors.TRACKING_BCAST_OPTIN;
  if (mode.optin && mode.optout) return errors.TRACKING_OPTIN_AND_OPTOUT;
  if (current !== null && ((mode.optin && current.optout) || (mode.optout && current.optin)))
    return errors.TRACKING_SWITCH_OPTIN;
  if (!mode.bcast) return null;
  const existing = current?.prefixes ?? [];
  for (let i = 0; i < prefixes.length; i++) {
    const prefix = prefixes[i] as string;
    for (const other of existing)
      if (overlaps(prefix, other)) return errors.trackingPrefixOverlapsExisting(prefix, other);
    for (let j = i + 1; j < prefixes.length; j++)
      if (overlaps(prefix, prefixes[j] as string)) return errors.trackingPrefixOverlaps(prefix, prefixes[j] as string);
  }
  return null;
}

function overlaps(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/** CLIENT CACHING YES|NO: whether the next command's keys are tracked (OPTIN / OPTOUT). */
export function clientCaching(host: TrackingClient, args: CommandArgs): Buffer {
  const tracking = host.tracking;
  if (tracking === null) return errorReply(errors.TRACKING_CACHING_WITHOUT_MODE);
  const answer = argumentText(args, 2).toLowerCase();
  if (answer === 'yes') {
    if (!tracking.optin) return errorReply(errors.TRACKING_CACHING_YES);
    tracking.caching = 1;
  } else if (answer === 'no') {
    if (!tracking.optout) return errorReply(errors.TRACKING_CACHING_NO);
    tracking.caching = 0;
  } else {
    return errorReply(errors.SYNTAX);
  }
  return OK;
}

/** CLIENT GETREDIR: the redirect client's id, 0 without one, -1 when not tracking. */
export function clientGetRedir(host: TrackingClient): Buffer {
  return integerReply(host.tracking === null ? -1 : host.tracking.redirectId);
}

/** CLIENT TRACKINGINFO: flags, redirect and prefixes, as Redis lists them. */
export function clientTrackingInfo(host: TrackingClient): Buffer {
  const tracking = host.tracking;
  const flags: Buffer[] = [bulkString(tracking === null ? 'off' : 'on')];
  if (tracking !== null) {
    if (tracking.bcast) flags.push(bulkString('bcast'));
    if (tracking.optin) flags.push(bulkString('optin'));
    if (tracking.optin && tracking.caching === 1) flags.push(bulkString('caching-yes'));
    if (tracking.optout) flags.push(bulkString('optout'));
    if (tracking.optout && tracking.caching === 0) flags.push(bulkString('caching-no'));
    if (tracking.noloop) flags.push(bulkString('noloop'));
    if (tracking.brokenRedirect) flags.push(bulkString('broken_redirect'));
  }
  const prefixes = (tracking?.prefixes ?? []).map((prefix) => bulkString(Buffer.from(prefix, 'latin1')));
  return (host.resp3 ? mapReply : arrayReply)([
    bulkString('flags'),
    (host.resp3 ? setReply : arrayReply)(flags),
    bulkString('redirect'),
    integerReply(tracking === null ? -1 : tracking.redirectId),
    bulkString('prefixes'),
    arrayReply(prefixes),
  ]);
}
