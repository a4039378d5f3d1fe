// Which commands CLIENT PAUSE WRITE holds, as Redis 7.0 decides it: those
// flagged `write` and those Redis flags MAY_REPLICATE, a flag COMMAND does not
// show (so it is not in the generated table). The list below was read off a
// real redis-server 7.0.15: under CLIENT PAUSE WRITE it held EVAL, EVALSHA,
// FCALL, PUBLISH, SPUBLISH and PFCOUNT besides the write commands, and not
// EVAL_RO, FCALL_RO, SCRIPT LOAD/FLUSH or SAVE. EXEC is held too: Redis holds
// it when the transaction queued a write; Slotway holds every EXEC (it does
// not track what was queued), which only delays a read-only one.
import type { CommandSpec } from './command-spec.js';
import { ModeCommand } from './policy.js';

const MAY_REPLICATE: ReadonlySet<string> = new Set(['eval', 'evalsha', 'fcall', 'publish', 'spublish', 'pfcount']);

/** CLIENT PAUSE WRITE holds this command until the pause ends. */
export function heldByWritePause(spec: CommandSpec): boolean {
  return spec.write || spec.mode === ModeCommand.Exec || MAY_REPLICATE.has(spec.name);
}
