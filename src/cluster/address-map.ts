// --nat-map: where a node announces one address (cluster-announce-ip/port,
// a NodePort, a CNI's pod IP) but Slotway must dial another. Applied to every
// address learned from the cluster: topology replies and MOVED/ASK targets.
//
//   10.0.0.5:6379=127.0.0.2:7001     one announced host:port -> reachable host:port
//   redis-0.internal=127.0.0.2        a host (any port keeps its port)
//   10.0.0.0/24=127.0.1.0/24          a network: host bits kept, prefix replaced
//
// The first entry that matches wins, in the order given.
import { BlockList, isIPv4 } from 'node:net';

interface Rule {
  readonly matches: (host: string, port: number) => boolean;
  readonly map: (host: string, port: number) => { host: string; port: number };
}

export class AddressMap {
  static readonly IDENTITY = new AddressMap([]);
  readonly #rules: Rule[] = [];

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const rule = parseRule(entry.trim());
      if (typeof rule === 'string') throw new Error(rule);
      this.#rules.push(rule);
    }
  }

  get empty(): boolean {
    return this.#rules.length === 0;
  }

  /** The error for one entry, or null (for start-up validation). */
  static problem(entry: string): string | null {
    const rule = parseRule(entry.trim());
    return typeof rule === 'string' ? rule : null;
  }

  /** Where to dial a node that announced host:port. */
  apply(host: string, port: number): { host: string; port: number } {
    for (const rule of this.#rules) if (rule.matches(host, port)) return rule.map(host, port);
    return { host, port };
  }
}

function parseRule(entry: string): Rule | string {
  const equals = entry.indexOf('=');
  if (equals <= 0 || equals === entry.length - 1) return `--nat-map: "${entry}" is not announced=reachable`;
  const from = entry.slice(0, equals);
  const to = entry.slice(equals + 1);
  if (from.includes('/') || to.includes('/')) return networkRule(entry, from, to);
  const fromPort = splitPort(from);
  const toPort = splitPort(to);
  if (fromPort === null || toPort === null || fromPort.host === '' || toPort.host === '')
    return `--nat-map: "${entry}": bad address`;
  if ((fromPort.port === 0) !== (toPort.port === 0))
    return `--nat-map: "${entry}": give ports on both sides or on neither`;
  const announcedHost = fromPort.host.toLowerCase();
  if (fromPort.port === 0) {
    return {
      matches: (host) => host.toLowerCase() === announcedHost,
      map: (_host, port) => ({ host: toPort.host, port }),
    };
  }
  return {
    matches: (host, port) => port === fromPort.port && host.toLowerCase() === announcedHost,
    map: () => ({ host: toPort.host, port: toPort.port }),
  };
}

/** `host:port` or a bare host; port 0 when absent. IPv6 literals in brackets: [::1]:6379. */
function splitPort(text: string): { host: string; port: number } | null {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed !== null) return { host: bracketed[1] as string, port: Number(bracketed[2] ?? 0) };
  const colon = text.lastIndexOf(':');
  if (colon < 0 || text.indexOf(':') !== colon) return { host: text, port: 0 }; // no port, or a bare IPv6 literal
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return null;
  return { host: text.slice(0, colon), port };
}

/** IPv4 networks of the same prefix length: the host bits of the announced address are kept. */
function networkRule(entry: string, from: string, to: string): Rule | string {
  const [fromNet, fromBits] = from.split('/');
  const [toNet, toBits] = to.split('/');
  const prefix = Number(fromBits);
  if (
    !isIPv4(fromNet ?? '') ||
    !isIPv4(toNet ?? '') ||
    fromBits !== toBits ||
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > 32
  ) {
    return `--nat-map: "${entry}": networks must be IPv4 CIDRs of the same length, e.g. 10.0.0.0/24=127.0.1.0/24`;
  }
  const networks = new BlockList();
  networks.addSubnet(fromNet as string, prefix, 'ipv4');
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const target = ipv4ToNumber(toNet as string) & mask;
  return {
    matches: (host) => isIPv4(host) && networks.check(host, 'ipv4'),
    map: (host, port) => ({ host: numberToIpv4((target | (ipv4ToNumber(host) & ~mask)) >>> 0), port }),
  };
}

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((value, part) => ((value << 8) | Number(part)) >>> 0, 0);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}
