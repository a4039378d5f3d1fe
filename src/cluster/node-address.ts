// "host:port" addresses as Redis prints them (IPv6 hosts bare, as in
// `-MOVED 3999 ::1:6381`, or bracketed as people type them).

export interface NodeAddress {
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port`, `[v6]:port` or `v6:port`; null when it is not one. */
export function parseAddress(text: string): NodeAddress | null {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return null;
  let host = text.slice(0, colon);
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return null;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port };
}

/** The canonical key of an address: `host:port`, IPv6 unbracketed like Redis. */
export function formatAddress(host: string, port: number): string {
  return `${host}:${port}`;
}
