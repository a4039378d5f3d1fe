// The vocabulary of the policy table (policy-table.ts): what Slotway does with
// a command, as data on its CommandSpec. The dispatcher
// (server/command-dispatcher.ts), the session's modes and the router read
// these; none of them looks at a command's name.

/** Commands Slotway answers itself, each with its own answer (server/local-commands.ts). */
export const enum LocalAnswer {
  None = 0,
  Ping,
  Echo,
  Quit,
  Select,
  Auth,
  Hello,
  Reset,
  /** READONLY / READWRITE: Slotway decides where reads go (--read-from); the client's wish is accepted. */
  ReadMode,
  Info,
  ClientSetName,
  ClientGetName,
  ClientId,
  ClientSetInfo,
  /** CLIENT NO-EVICT / NO-TOUCH: a node-side flag of one connection; accepted, nothing is sent. */
  ClientFlag,
  ClusterKeyslot,
  ClusterInfo,
  ClusterMyId,
  ClusterSlots,
  ClusterShards,
  ClusterNodes,
  /** The read-only ACL subcommands, answered from the users file. */
  AclWhoAmI,
  AclCat,
  AclGetUser,
  AclList,
  AclUsers,
  AclDryRun,
  AclGenPass,
  AclHelp,
  /** Slotway's own PROXY command (admin/proxy-command.ts). */
  Proxy,
  /** A container (CLIENT, CONFIG ...) without a subcommand, or with one this Redis does not have. */
  Container,
  /** CLIENT TRACKING / TRACKINGINFO / CACHING / GETREDIR over Slotway's tracking table (server/tracking-command.ts). */
  ClientTracking,
  ClientTrackingInfo,
  ClientCaching,
  ClientGetRedir,
  /** CLIENT subcommands over Slotway's own clients (server/client-command.ts). */
  ClientList,
  ClientInfo,
  ClientKill,
  ClientPause,
  ClientUnpause,
  /** Sent on to the node a blocked client's lease is on, as CLIENT UNBLOCK of that lease. */
  ClientUnblock,
  /** Replies dropped in the session (server/reply-mode.ts); the shared connections' reply mode never changes. */
  ClientReply,
}

/** Commands that change what the client's connection is: a transaction, a subscription, MONITOR. */
export const enum ModeCommand {
  None = 0,
  Multi,
  Exec,
  Discard,
  Watch,
  Unwatch,
  Monitor,
  Subscribe,
  Psubscribe,
  Unsubscribe,
  Punsubscribe,
  Ssubscribe,
  Sunsubscribe,
}

/** What a command does to the scripts Slotway remembers for -NOSCRIPT reloads (router/script-cache.ts). */
export const enum ScriptEffect {
  None = 0,
  /** SCRIPT LOAD: remember the body. */
  Remember,
  /** SCRIPT FLUSH: forget every body, as the masters do. */
  Forget,
  /** EVALSHA: reload the body after -NOSCRIPT. */
  ReloadOnNoScript,
}
