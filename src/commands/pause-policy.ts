// Which commands CLIENT PAUSE WRITE holds, as Redis 7.0 decides it: those
// flagged `write` and those Redis flags MAY_REPLICATE, a flag COMMAND does not
// show (so it is not in the generated table). The list below was read off a
// real redis-server 7.0.15: under CLIENT PAUSE WRITE it held EVAL, EVALSHA,
// FCALL, PUBLISH, SPUBLISH and PFCOUNT besides the write commands, and not
// EVAL_RO, FCALL_RO, SCRIPT LOAD/FLUSH or SAVE. A write queued inside MULTI
// is held like any (it was on Redis too), and EXEC when its transaction
// queued such a command; a read-only EXEC is not.
import type { CommandSpec } from './command-spec.js';
import { ModeCommand } from './policy.js';

const MAY_REPLICATE: ReadonlySet<string> = new Set(['eval', 'evalsha', 'fcall', 'publish', 'spublish', 'pfcount']);

/** CLIENT PAUSE WRITE holds this command until the pause ends; `queuedWrites`: its transaction queued one. */
export function heldByWritePause(spec: CommandSpec, queuedWrites = false): boolean {
  return spec.write || MAY_REPLICATE.has(spec.name) || (queuedWrites && spec.mode === ModeCommand.Exec);
}
