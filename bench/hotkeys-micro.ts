// The hot/big key hooks in isolation, for instruction counts under callgrind
// (a deterministic loop: no sockets, no batching that load could change):
//
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p node dist/bench/hotkeys-micro.js <mode> [commands]
//
// Each iteration does what command-dispatcher.ts #byKey and ServerStats.onReply
// do around the hooks for a GET or SET of one of 100,000 keys: frame, look up,
// key slot, new Request, then the hooks. <mode>:
//   none     without the hooks (the baseline: the code before hot keys)
//   0        the hooks with --hotkeys-sample-rate 0 (decrement, branch, pointer compare)
//   <N>      the hooks sampling 1 in N
// The difference of two modes' totals, divided by [commands], is what the
// hooks cost per command; run each mode more than once (startup varies a little).
import { commandSlot } from '../src/commands/command-args.js';
import { KeyIndices } from '../src/commands/command-spec.js';
import { CommandTable } from '../src/commands/command-table.js';
import { CommandFramer } from '../src/protocol/command-framer.js';
import { encodeCommand } from '../src/protocol/resp-writer.js';
import { Frame } from '../src/protocol/stream-framer.js';
import { Request, type RequestOwner } from '../src/router/request.js';
import { HotKeys } from '../src/server/hot-keys.js';

const mode = process.argv[2] ?? 'none';
const commands = Number(process.argv[3] ?? '2000000');
const hooks = mode !== 'none';
const hotKeys = new HotKeys({
  hotkeysSampleRate: hooks ? Number(mode) : 0,
  hotkeysCapacity: 128,
  hotkeysKeyBytes: 256,
});

// 1,000 commands per chunk: GET and SET alternately, keys spread over 10,000 (more distinct keys than --hotkeys-capacity: the top-K churns, its worst case).
const BATCH = 1000;
const batches: Buffer[] = [];
for (let b = 0; b < 10; b++) {
  const parts: Buffer[] = [];
  for (let i = 0; i < BATCH; i++) {
    const key = `key:${String(((b * BATCH + i) * 7919) % 10_000).padStart(12, '0')}`;
    parts.push(encodeCommand(i % 2 === 0 ? ['GET', key] : ['SET', key, 'xxx']));
  }
  batches.push(Buffer.concat(parts));
}
const REPLY = Buffer.from('$3\r\nxxx\r\n');

const table = new CommandTable();
const keys = new KeyIndices();
const owner: RequestOwner = { id: 1, resp3: false, closed: false, onRequestDone() {} };
const framer = new CommandFramer();
// Requests escape into this ring, as Slotway's escape into the session's queue: without it V8 may
// drop the allocation in a mode whose hook never runs, and the modes would compare unlike code.
const sink: Request[] = new Array<Request>(256);
let checksum = 0;

for (let done = 0, b = 0; done < commands; b = (b + 1) % batches.length) {
  framer.push(batches[b] as Buffer);
  while (framer.next() === Frame.Ready) {
    const spec = table.lookup(framer);
    const slot = commandSlot(spec, framer, keys);
    const request = new Request(owner, spec, framer.frameBuffer.subarray(framer.frameStart, framer.frameEnd), slot);
    if (hooks) {
      if (--hotKeys.countdown === 0) hotKeys.sample(spec, framer, keys, slot, request);
      if (request === hotKeys.awaiting) hotKeys.onReply(REPLY.length);
    }
    sink[done & 255] = request;
    checksum += request.slot;
    done++;
  }
}
console.log(
  `mode ${mode}: ${commands} commands, ${hotKeys.samples} sampled, top ${hotKeys.hottest(1)[0]?.key ?? '-'} (checksum ${checksum}, ${sink.length})`,
);
