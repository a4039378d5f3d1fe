// A seeded sample of the framer fuzzer (bench/fuzz.ts runs 10^6 cases and more:
// `npm run bench:fuzz`), and the bugs it found, each pinned by a small case.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandFramer } from '../../../src/protocol/command-framer.js';
import { ReplyFramer } from '../../../src/protocol/reply-framer.js';
import { Frame, parseInteger } from '../../../src/protocol/stream-framer.js';
import { STREAM_KINDS } from '../../helpers/fuzz/campaign.js';
import { runFuzzInWorker } from '../../helpers/fuzz/in-worker.js';

const SEED = 20261124;
const CASES = 50_000;

test(`fuzz sample: ${CASES} seeded cases of every kind agree with the reference decoders and redis-parser`, async () => {
  const run = await runFuzzInWorker({ seed: SEED, cases: CASES, stallMs: 30_000 });
  assert.equal(run.hang, undefined, `a framer stopped making progress: ${JSON.stringify(run.hang)}`);
  const result = run.result;
  assert.ok(result !== undefined);
  const failure = result.failure;
  assert.equal(
    failure,
    undefined,
    failure &&
      `${failure.message}\n${failure.reproducer}\nreplay: npm run bench:fuzz -- --seed ${failure.seed} --stream ${failure.stream}`,
  );
  assert.ok(result.stats.cases >= CASES);
  for (const kind of STREAM_KINDS) assert.ok((result.stats.casesByKind[kind] ?? 0) > 0, `no ${kind} case ran`);
  for (const [cutting, count] of Object.entries(result.stats.casesByCutting))
    assert.ok(count > 0, `no ${cutting} case ran`);
  assert.ok(result.stats.errorCases > 0 && result.stats.frames > 0);
});

/** Every frame (as latin1) or the error, feeding `chunks` in turn. */
function frames(framer: CommandFramer | ReplyFramer, chunks: string[]): string[] {
  const out: string[] = [];
  for (const chunk of chunks) {
    framer.push(Buffer.from(chunk, 'latin1'));
    for (;;) {
      const status = framer.next();
      if (status === Frame.Incomplete) break;
      if (status === Frame.Error) return [...out, `error: ${framer.error}`];
      if (framer instanceof CommandFramer) {
        const args: string[] = [];
        for (let i = 0; i < framer.argc; i++)
          args.push(framer.frameBuffer.toString('latin1', framer.argStart[i], framer.argEnd[i]));
        out.push(args.join('|'));
      } else {
        out.push(framer.frameBuffer.toString('latin1', framer.frameStart, framer.frameEnd));
      }
    }
  }
  return out;
}

test('found by fuzzing: an attribute with no pairs (`|0`) and the value it annotates are one reply', () => {
  assert.deepEqual(frames(new ReplyFramer(), ['|0\r\n+OK\r\n:1\r\n']), ['|0\r\n+OK\r\n', ':1\r\n']);
  assert.deepEqual(frames(new ReplyFramer(), ['*2\r\n|0\r\n', '+a\r\n|1\r\n+k\r\n+v\r\n:2\r\n']), [
    '*2\r\n|0\r\n+a\r\n|1\r\n+k\r\n+v\r\n:2\r\n',
  ]);
  assert.deepEqual(frames(new ReplyFramer(), ['|-1\r\n']), ['error: Protocol error: invalid multibulk length']);
});

test('found by fuzzing: an aggregate count of 2^32 - 1 does not wrap to -1 (one element would end it)', () => {
  assert.deepEqual(frames(new ReplyFramer(), ['~4294967295\r\n-\r\n', ':1\r\n']), []);
  assert.deepEqual(frames(new ReplyFramer(), ['%2147483648\r\n+a\r\n+b\r\n']), []);
});

test('found by fuzzing: `-0` is not a number, as Redis reads counts and lengths (string2ll)', () => {
  // Redis answers `*-0` and `$-0` with these errors; `$-0` framed as an empty
  // argument would be forwarded and make the node drop the shared connection.
  assert.deepEqual(frames(new CommandFramer(), ['*1\r\n$-0\r\n\r\n']), ['error: Protocol error: invalid bulk length']);
  assert.deepEqual(frames(new CommandFramer(), ['*-0\r\n']), ['error: Protocol error: invalid multibulk length']);
  assert.deepEqual(frames(new ReplyFramer(), ['$-0\r\n\r\n']), ['error: Protocol error: invalid bulk length']);
});

test('found by fuzzing: counts and lengths span exactly the signed 64-bit range, as string2ll', () => {
  const parse = (text: string): number => parseInteger(Buffer.from(text), 0, text.length);
  // Valid (past 2^53 the value is rounded: only size and sign matter to the framers).
  assert.ok(parse('-1234567890123456789') < -1.2e18);
  assert.ok(parse('-9223372036854775808') < -9.2e18);
  assert.ok(parse('9223372036854775807') > 9.2e18);
  assert.equal(parse('9007199254740991'), Number.MAX_SAFE_INTEGER);
  for (const invalid of [
    '-0',
    '00',
    '-01',
    '9223372036854775808',
    '-9223372036854775809',
    '9999999999999999999',
    '12345678901234567890',
    '-',
  ]) {
    assert.ok(Number.isNaN(parse(invalid)), invalid);
  }
  // A 20-character negative count is ignored like `*-1`, as Redis does.
  assert.deepEqual(frames(new CommandFramer(), ['*-1234567890123456789\r\n*1\r\n$4\r\nPING\r\n']), ['PING']);
  assert.deepEqual(frames(new ReplyFramer(), ['$-1234567890123456789\r\n:1\r\n']), [
    '$-1234567890123456789\r\n',
    ':1\r\n',
  ]);
  assert.deepEqual(frames(new ReplyFramer(), ['$9223372036854775808\r\n']), [
    'error: Protocol error: invalid bulk length',
  ]);
});

test("found by fuzzing: '\\v' and '\\f' end no unquoted inline argument (sdssplitargs), though skipped between them", () => {
  // redis-server 7.0.15 answers `ECHO a\vb` with "a\vb" and `ECHO a\f ` with "a\f".
  assert.deepEqual(frames(new CommandFramer(), ['ECHO a\x0bb\r\nECHO a\x0c \r\n\x0bECHO \x0c"x"\x0b\r\n']), [
    'ECHO|a\x0bb',
    'ECHO|a\x0c',
    'ECHO|x',
  ]);
});
