// A command split by slot: each part is byte for byte the command encodeCommand
// would make of its arguments, parts in the order their slots first appear.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyIndices } from '../../../src/commands/command-spec.js';
import { keySlot } from '../../../src/commands/key-slot.js';
import { CommandFramer } from '../../../src/protocol/command-framer.js';
import { encodeCommand } from '../../../src/protocol/resp-writer.js';
import { Frame } from '../../../src/protocol/stream-framer.js';
import { splitBySlot } from '../../../src/router/split-parts.js';

function framed(args: Buffer[]): CommandFramer {
  const framer = new CommandFramer();
  // Behind another command, so the arguments do not start at offset 0 of the buffer.
  framer.push(Buffer.concat([encodeCommand(['PING']), encodeCommand(args)]));
  assert.equal(framer.next(), Frame.Ready);
  assert.equal(framer.next(), Frame.Ready);
  return framer;
}

/** The parts as the straightforward code made them: a Map by slot, encodeCommand of each part's arguments. */
function reference(args: Buffer[], keyIndices: number[], step: number, head: number) {
  const bySlot = new Map<number, { args: Buffer[]; positions: number[] }>();
  keyIndices.forEach((index, k) => {
    const key = args[index] as Buffer;
    const slot = keySlot(key, 0, key.length);
    let group = bySlot.get(slot);
    if (group === undefined) {
      group = { args: args.slice(0, head), positions: [] };
      bySlot.set(slot, group);
    }
    group.args.push(...args.slice(index, index + step));
    group.positions.push(k);
  });
  return [...bySlot].map(([slot, group]) => ({ slot, payload: encodeCommand(group.args), positions: group.positions }));
}

function check(args: Buffer[], step: number, head: number): void {
  const framer = framed(args);
  const keys = new KeyIndices();
  const keyIndices: number[] = [];
  for (let i = head; i < args.length; i += step) {
    keys.push(i);
    keyIndices.push(i);
  }
  const parts = splitBySlot(framer, keys, step, head);
  const expected = reference(args, keyIndices, step, head);
  assert.equal(parts.length, expected.length);
  parts.forEach((part, i) => {
    const want = expected[i];
    assert.equal(part.slot, want?.slot);
    assert.deepEqual(part.positions, want?.positions);
    assert.equal(part.payload.toString('latin1'), want?.payload.toString('latin1'));
  });
}

let seed = 99;
function random(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed >>> 16;
}

function randomArg(): Buffer {
  // Mostly short, some past the byte-copy limit, some empty; tags group keys in one slot.
  const kind = random() % 10;
  if (kind === 0) return Buffer.alloc(0);
  if (kind === 1) return Buffer.alloc(65 + (random() % 3000), random() & 0xff);
  if (kind < 5) return Buffer.from(`{tag${random() % 3}}:${random()}`);
  return Buffer.from(`key:${random()}`);
}

test('MGET-like splits (step 1) equal the reference, few and many keys', () => {
  check([Buffer.from('MGET'), Buffer.from('a'), Buffer.from('b'), Buffer.from('c')], 1, 1);
  for (const count of [1, 2, 10, 63, 64, 65, 200, 1000]) {
    const args: Buffer[] = [Buffer.from('MGET')];
    for (let i = 0; i < count; i++) args.push(randomArg());
    check(args, 1, 1);
  }
});

test('MSET-like splits (step 2) and SHARDNUMSUB-like heads (head 2) equal the reference', () => {
  for (const count of [1, 5, 40, 300]) {
    const mset: Buffer[] = [Buffer.from('MSET')];
    for (let i = 0; i < count; i++) mset.push(randomArg(), randomArg());
    check(mset, 2, 1);
    const numsub: Buffer[] = [Buffer.from('PUBSUB'), Buffer.from('SHARDNUMSUB')];
    for (let i = 0; i < count; i++) numsub.push(randomArg());
    check(numsub, 1, 2);
  }
});

test('one key per slot of thousands of slots, then a small split: no group carried over', () => {
  const many: Buffer[] = [Buffer.from('DEL')];
  for (let i = 0; i < 5000; i++) many.push(Buffer.from(`k${i}`));
  check(many, 1, 1);
  check([Buffer.from('DEL'), Buffer.from('k1'), Buffer.from('k2'), Buffer.from('k1')], 1, 1);
});
