// Whether this machine's open-file limits let a workload's client connections
// through: redis-benchmark, Slotway and the throwaway redis-servers inherit
// this process's limit (RLIMIT_NOFILE, what `ulimit -n` shows), and each
// connection costs a file descriptor at both ends. A workload that would run
// out of them is skipped with the reason, instead of failing halfway with
// EMFILE or "max number of clients reached".
import { readFile } from 'node:fs/promises';

/** Descriptors a process needs besides the benchmark's client connections (listeners, logs, backend links, leases). */
const SPARE = 64;

/** The soft "Max open files" limit of a process, from /proc/<pid>/limits (null: unreadable, e.g. another user's). */
export async function openFileLimit(pid: number | 'self'): Promise<number | null> {
  const text = await readFile(`/proc/${pid}/limits`, 'utf8').catch(() => '');
  const match = /^Max open files\s+(\S+)/m.exec(text);
  if (match === null) return null;
  return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}

export interface Budget {
  /** redis-benchmark's clients (-c). */
  readonly clients: number;
  /** Masters of the cluster: in --cluster mode redis-benchmark opens clients x masters connections. */
  readonly masters: number;
  /** The limit redis-benchmark and Slotway run under (this process's). */
  readonly ownLimit: number | null;
  /** Each master's open-file limit (null where unreadable) and its CONFIG GET maxclients. */
  readonly servers: readonly { readonly name: string; readonly limit: number | null; readonly maxclients: number }[];
  /** Slotway's --maxclients. */
  readonly slotwayMaxClients: number;
}

/** What would run out, one sentence each; [] when the workload fits. */
export function openFileShortfalls(budget: Budget): string[] {
  const { clients, masters, ownLimit } = budget;
  const problems: string[] = [];
  const direct = clients * masters + SPARE;
  if (ownLimit !== null && ownLimit < direct)
    problems.push(
      `redis-benchmark --cluster opens ${clients} x ${masters} masters = ${clients * masters} connections, ` +
        `ulimit -n is ${ownLimit} (needs about ${direct})`,
    );
  const proxy = clients + SPARE;
  if (ownLimit !== null && ownLimit < proxy)
    problems.push(
      `Slotway holds ${clients} client connections plus its own, ulimit -n is ${ownLimit} (needs about ${proxy})`,
    );
  if (budget.slotwayMaxClients < clients)
    problems.push(`Slotway's --maxclients is ${budget.slotwayMaxClients}, below ${clients} clients`);
  for (const server of budget.servers) {
    // Directly, every client connects to every master; a proxy adds a few of its own.
    if (server.maxclients < clients + SPARE)
      problems.push(`master ${server.name} has maxclients ${server.maxclients}, needs ${clients + SPARE}`);
    // Redis wants maxclients + 32 descriptors and lowers maxclients to fit at start.
    if (server.limit !== null && server.limit < clients + SPARE + 32)
      problems.push(`master ${server.name} runs with ulimit -n ${server.limit}, needs ${clients + SPARE + 32}`);
  }
  return problems;
}
