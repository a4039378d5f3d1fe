// Commands that run a client's code on the node (Lua scripts, functions).
// What that code calls is checked by the node against the user the command
// is sent as, not by Slotway: so these go to a node connection authenticated
// as an ACL user with the client's rights minus --deny-commands (see
// cluster/script-user.ts). SCRIPT LOAD and FUNCTION LOAD are not here: they
// run no redis.call (a library's top-level code cannot call Redis).
export const SCRIPT_COMMANDS: ReadonlySet<string> = new Set([
  'eval',
  'evalsha',
  'eval_ro',
  'evalsha_ro',
  'fcall',
  'fcall_ro',
]);
