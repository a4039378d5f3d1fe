// PROXY HOTKEYS [count|RESET] and PROXY BIGKEYS [count|RESET]: the sampled
// top lists of server/hot-keys.ts, each entry
//
//   1) key             as the client sent it (cut to --hotkeys-key-bytes)
//   2) reads | bytes   HOTKEYS: estimated reads (sampled reads x the rate);
//                      BIGKEYS: the largest command or reply seen for the key
//   3) slot
//   4) master          address of the slot's master now ('' when none)
//
// largest first, like redis-cli --hotkeys / --bigkeys list the hottest and
// biggest with their counter or size.
import { argumentText } from '../commands/command-args.js';
import type { CommandArgs } from '../commands/command-spec.js';
import { HOTKEYS_OFF, NOT_INTEGER, wrongArity } from '../protocol/errors.js';
import { OK, arrayReply, bulkString, errorReply, integerReply } from '../protocol/resp-writer.js';
import type { Router } from '../router/router.js';
import type { HotKeys } from '../server/hot-keys.js';
import type { TopEntry } from '../util/top-keys.js';

/** Entries shown when no count is given (redis-cli --hotkeys shows 16; a screenful either way). */
export const DEFAULT_COUNT = 10;

/** Answers PROXY HOTKEYS (`which` = 'hotkeys') or PROXY BIGKEYS. */
export function hotKeysReply(
  args: CommandArgs,
  which: 'hotkeys' | 'bigkeys',
  hotKeys: HotKeys,
  router: Router,
): Buffer {
  if (args.argc > 3) return errorReply(wrongArity(`proxy|${which}`));
  if (hotKeys.rate === 0) return errorReply(HOTKEYS_OFF);
  let count = DEFAULT_COUNT;
  if (args.argc === 3) {
    const text = argumentText(args, 2);
    if (text.toLowerCase() === 'reset') {
      (which === 'hotkeys' ? hotKeys.reads : hotKeys.bytes).clear();
      return OK;
    }
    if (!/^\d{1,9}$/.test(text)) return errorReply(NOT_INTEGER);
    count = Number(text);
  }
  const entries = which === 'hotkeys' ? hotKeys.hottest(count) : hotKeys.biggest(count);
  return arrayReply(entries.map((entry) => entryReply(entry, router)));
}

function entryReply(entry: TopEntry, router: Router): Buffer {
  return arrayReply([
    bulkString(Buffer.from(entry.key, 'latin1')),
    integerReply(entry.value),
    integerReply(entry.slot),
    bulkString(router.map.ownerOf(entry.slot)?.address ?? ''),
  ]);
}

/** A key as a metric label: its bytes read as UTF-8 (a label must be text), already cut to --hotkeys-key-bytes. */
export function keyLabel(key: string): string {
  return Buffer.from(key, 'latin1').toString('utf8');
}
