// A connection's end as Redis writes a client's address (CLIENT LIST's addr
// and laddr, a MONITOR line's source): IPv4 bare, also when Node reports it
// mapped into IPv6, and IPv6 in brackets.

/** `10.0.0.1:6379`, `[::1]:6379`. */
export function formatPeer(address: string, port: number): string {
  const host = address.startsWith('::ffff:') ? address.slice(7) : address;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
