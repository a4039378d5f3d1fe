// One NodeConnection against one redis-server: a fixed number of pipelined
// GETs of one value size, with a fixed number in flight (as clients
// multiplexed on a master's shared connection keep it). Reports this
// process's CPU time for the timed GETs (process.cpuUsage), the wall time,
// and, given the server's pid, the write() calls the server made meanwhile
// (/proc/<pid>/io syscw: readable for a server this user started).
//
//   node dist/bench/node-reads.js --port 7000 --size 100000 --gets 20000 [--depth 50] [--pid 1234]
//
// A fixed amount of work, so CPU seconds (not ops/s) compare builds: run two
// builds alternately several times and compare medians (see bench/README.md).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { NodeConnection, type PendingCommand } from '../src/backend/node-connection.js';
import { ownedSlice } from '../src/protocol/owned-slice.js';
import { encodeCommand } from '../src/protocol/resp-writer.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} needs a whole number`);
  return value;
}

const port = option('port', 7000);
const size = option('size', 16);
const gets = option('gets', 20_000);
const depth = option('depth', 50);
const pid = option('pid', 0);
const WARMUP = Math.min(gets, 2_000);

function serverWrites(): number {
  if (pid === 0) return 0;
  const match = /syscw: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return match === null ? 0 : Number(match[1]);
}

/** The server's user + system CPU in µs (clock ticks of 10 ms: use enough GETs). */
function serverCpuUs(): number {
  if (pid === 0) return 0;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 1e4;
}

const key = `bench:node-reads:${size}`;
const get = encodeCommand(['GET', key]);
const expected = `$${size}\r\n`.length + size + 2;

let sent = 0;
let answered = 0;
let target = 0;
let kept = 0;
let done: () => void = () => {};

const getCommand: PendingCommand = {
  payload: get,
  onNodeReply(buffer: Buffer, start: number, end: number): void {
    // What the router does with a client's reply: keep it beyond this read.
    const reply = ownedSlice(buffer, start, end);
    if (reply.length !== expected) throw new Error(`reply of ${reply.length} bytes, expected ${expected}`);
    kept += reply[reply.length - 1] as number;
    answered++;
    if (sent < target) {
      sent++;
      connection.send(getCommand);
    } else if (answered === target) done();
  },
  onNodeFailure(_sent: boolean, reason: string): void {
    throw new Error(`GET failed: ${reason}`);
  },
};

function run(count: number): Promise<void> {
  return new Promise((resolve) => {
    target = sent + count;
    done = resolve;
    const first = Math.min(depth, count);
    for (let i = 0; i < first; i++) {
      sent++;
      connection.send(getCommand);
    }
  });
}

let ready: () => void = () => {};
const readyPromise = new Promise<void>((resolve) => (ready = resolve));
const connection = new NodeConnection(
  '127.0.0.1',
  port,
  { connectTimeoutMs: 2_000 },
  {
    onConnectionReady: () => ready(),
    onConnectionClosed: (_c, reason) => {
      if (answered < target) throw new Error(`connection closed: ${reason}`);
    },
  },
);
await readyPromise;
await new Promise<void>((resolve) => {
  connection.send({
    payload: encodeCommand(['SET', key, Buffer.alloc(size, 120)]),
    onNodeReply: () => resolve(),
    onNodeFailure: (_s, reason) => {
      throw new Error(reason);
    },
  });
});
await run(WARMUP);
const writesBefore = serverWrites();
const serverCpuBefore = serverCpuUs();
const cpuBefore = process.cpuUsage();
const wallBefore = process.hrtime.bigint();
await run(gets);
const wallNs = Number(process.hrtime.bigint() - wallBefore);
const cpu = process.cpuUsage(cpuBefore);
const writes = serverWrites() - writesBefore;
const serverCpu = serverCpuUs() - serverCpuBefore;
connection.close('done');
console.log(
  JSON.stringify({
    size,
    gets,
    depth,
    cpuUsPerGet: (cpu.user + cpu.system) / gets,
    userUsPerGet: cpu.user / gets,
    systemUsPerGet: cpu.system / gets,
    wallUsPerGet: wallNs / 1e3 / gets,
    serverWritesPerGet: writes / gets,
    serverCpuUsPerGet: serverCpu / gets,
    load1: loadavg()[0],
    kept: kept > 0,
  }),
);
