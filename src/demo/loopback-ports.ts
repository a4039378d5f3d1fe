// Addresses for local redis-server nodes: loopback only, and ports whose
// cluster bus port (port + 10000) stays below Linux's ephemeral range
// (32768+), where an outgoing connection could be holding it.
import { createServer, isIPv4 } from 'node:net';

/** The highest node port: its bus port, 32767, is still below the ephemeral range. */
export const MAX_NODE_PORT = 22767;
const BUS_PORT_OFFSET = 10000;

/** Ports already given out by this process (or claimed with reservePort). */
const handedOut = new Set<number>();

/** Throws a RangeError naming the problem unless `host` is a loopback address and `port` (if given) a node port. */
export function checkLoopbackAddress(host: string, port?: number): void {
  if (!(host === '::1' || (isIPv4(host) && host.startsWith('127.')))) {
    throw new RangeError(`local cluster: binds loopback only (127.0.0.0/8 or ::1), not ${JSON.stringify(host)}`);
  }
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= MAX_NODE_PORT)) {
    throw new RangeError(`local cluster: port ${port} is not an integer in 1..${MAX_NODE_PORT}`);
  }
}

/** A port chosen by other means (a node moved to it): findFreePorts will not hand it out. */
export function reservePort(port: number): void {
  handedOut.add(port);
}

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => done(true)));
  });
}

/** True when host:port and its bus port (+10000) can both be bound now. */
export async function nodePortBindable(host: string, port: number): Promise<boolean> {
  return (await canBind(host, port)) && (await canBind(host, port + BUS_PORT_OFFSET));
}

/** `count` random ports in 12000..21999 where both the port and its bus port are bindable now. */
export async function findFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`cannot find ${count} ports`);
  const ports: number[] = [];
  for (let tries = 0; ports.length < count && tries < 2000; tries++) {
    const port = 12000 + Math.floor(Math.random() * 10000);
    if (handedOut.has(port)) continue;
    handedOut.add(port); // before awaiting, so concurrent calls in this process never share a port
    if (await nodePortBindable(host, port)) ports.push(port);
  }
  if (ports.length < count) throw new Error(`found only ${ports.length} of ${count} free port pairs on ${host}`);
  return ports;
}
