// Every error line a client can get from Slotway itself, in one place. Where
// Redis has words for the case, these are Redis's words, so client libraries
// that match on them (CROSSSLOT, NOPROTO, WRONGPASS ...) keep working.
// Lines are given without the leading '-' and trailing CRLF.

export const CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot";
export const SLOT_NOT_SERVED = 'CLUSTERDOWN Hash slot not served';
export const NOPROTO = 'NOPROTO unsupported protocol version';
export const NOT_INTEGER = 'ERR value is not an integer or out of range';
export const SELECT_IN_CLUSTER = 'ERR SELECT is not allowed in cluster mode';
export const AUTH_WITHOUT_PASSWORD =
  'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?';
export const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';
export const NOAUTH = 'NOAUTH Authentication required.';
export const NOAUTH_HELLO =
  'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time';
export const MAX_CLIENTS = 'ERR max number of clients reached';
/** The replies Slotway holds for all clients reached --max-buffer-memory (Redis: "OOM command not allowed when used memory > 'maxmemory'."). */
export const OOM_BUFFER_MEMORY =
  "OOM command not allowed when Slotway's buffer memory (--max-buffer-memory) is exhausted";

/** The user's rules refuse the command (`name` as Redis spells it: 'set', 'config|get'). */
export function noPermission(name: string): string {
  return `NOPERM this user has no permissions to run the '${name}' command`;
}

/** A key of the command is outside the user's key patterns (or lacks the read/write access it needs). */
export const NOPERM_KEY = 'NOPERM this user has no permissions to access one of the keys used as arguments';
/** A channel (or, for PSUBSCRIBE, a pattern) of the command is outside the user's channel patterns. */
export const NOPERM_CHANNEL = 'NOPERM this user has no permissions to access one of the channels used as arguments';

/** ACL changes are not made through the protocol: Slotway's users come from its --users-file. */
export function aclChangeRefused(sub: string): string {
  return `ERR ACL ${sub.toUpperCase()} is not available through Slotway: users and their rules come from its --users-file (edit it and restart Slotway)`;
}

/** Slotway keeps no ACL log: refusals are its clients' replies (and AUTH failures its log lines). */
export const ACL_LOG_NOT_KEPT =
  'ERR ACL LOG is not available through Slotway: it keeps no ACL log (failed AUTHs are in its log and the slotway_client_auth_failures_total metric)';

/** An operator turned the command off with --deny-commands. */
export function deniedCommand(name: string): string {
  return `ERR the ${name.toUpperCase()} command is disabled on this Slotway (--deny-commands)`;
}
export const BAD_CLIENT_NAME = 'ERR Client names cannot contain spaces, newlines or special characters.';
export const SYNTAX = 'ERR syntax error';

export function wrongArity(command: string): string {
  return `ERR wrong number of arguments for '${command}' command`;
}

export function unknownSubcommand(command: string, sub: string): string {
  return `ERR unknown subcommand '${sub}'. Try ${command.toUpperCase()} HELP.`;
}

export function notAllowedInClusterMode(command: string): string {
  return `ERR ${command.toUpperCase()} is not allowed in cluster mode`;
}

export function notThroughProxy(command: string): string {
  return `ERR ${command.toUpperCase()} is not available through Slotway: it would act on a single cluster node; run it on the node directly`;
}

export function notSupportedYet(command: string): string {
  return `ERR ${command.toUpperCase()} is not supported by this version of Slotway`;
}

/** A command was written to a node whose connection then dropped: it may have run. */
export function lostAfterSend(node: string, reason: string): string {
  return `ERR Slotway lost the connection to ${node} (${reason}) after sending the command; it may or may not have been executed`;
}

/** Retries ran out while the node for a slot could not be reached. */
export function nodeUnreachable(node: string, reason: string): string {
  return `CLUSTERDOWN node ${node} is unreachable (${reason}); Slotway gave up after its retries`;
}

/**
 * Retries ran out while a slot's owner redirected to a node outside the
 * topology Slotway follows (refused by the foreign-cluster guard, or not read
 * yet). Not passed on as -MOVED: a cluster-aware client would follow it there.
 */
export function movedOutsideTopology(slot: number, node: string): string {
  return `CLUSTERDOWN slot ${slot} was redirected to ${node}, a node outside the topology Slotway follows (see /readyz); Slotway gave up after its retries`;
}

export function tooManyRedirects(last: string): string {
  return `ERR Slotway followed too many redirects; last reply: ${last}`;
}

// Transactions, as Redis words them.
export const EXECABORT = 'EXECABORT Transaction discarded because of previous errors.';
export const MULTI_NESTED = 'ERR MULTI calls can not be nested';
export const EXEC_WITHOUT_MULTI = 'ERR EXEC without MULTI';
export const DISCARD_WITHOUT_MULTI = 'ERR DISCARD without MULTI';
export const WATCH_INSIDE_MULTI = 'ERR WATCH inside MULTI is not allowed';

/** A command Slotway cannot queue in a transaction pinned to one node (it needs every master, or is answered by Slotway). */
export function notInTransaction(command: string): string {
  return `ERR ${command.toUpperCase()} inside MULTI is not supported by Slotway: a transaction runs on the one master that owns its slot`;
}

/** The transaction's node connection dropped: MULTI and WATCH state died with it. */
export function lostInTransaction(node: string, reason: string): string {
  return `ERR Slotway lost the connection to ${node} (${reason}) during the transaction; the transaction is discarded`;
}

/** A queued command met -MOVED/-ASK: the node flagged the transaction, EXEC will abort. */
export function redirectedInTransaction(redirect: string): string {
  return `ERR the slot moved during the transaction (${redirect}); EXEC will abort, retry the transaction`;
}

/** Every lease of a node is out (--max-leases-per-node). */
export function tooManyLeases(node: string): string {
  return `ERR Slotway has too many dedicated connections to ${node} (--max-leases-per-node); try again later`;
}

/** RESP2 subscribed mode, as Redis says it. */
export function notInSubscribedMode(command: string): string {
  return `ERR Can't execute '${command}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;
}

export const MONITOR_DISABLED =
  "ERR MONITOR is disabled in Slotway; start it with --allow-monitor to stream every master's commands";

/** What a MONITOR client may still send. */
export const MONITORING = 'ERR Slotway: a MONITOR connection accepts only QUIT and RESET';

/** A command that would change a node connection every client shares (SCRIPT DEBUG, CLIENT REPLY). */
export function changesSharedConnection(command: string): string {
  return `ERR ${command.toUpperCase()} is not available through Slotway: it would change a node connection that other clients share`;
}

/** Node administration Slotway runs on every master, but only for an admin of its users file. */
export function adminOnly(command: string): string {
  return `NOPERM ${command.toUpperCase()} is node administration: Slotway runs it on every master, and only for a user its --users-file makes an admin (+@admin)`;
}

/** A command Redis does not have, in Redis's words (`args` as Redis quotes them, each followed by a space). */
export function unknownCommand(name: string, args: string): string {
  return `ERR unknown command '${name}', with args beginning with: ${args}`;
}

/** A command the nodes know but Slotway's policy table does not classify (a newer Redis): refused, never forwarded. */
export function noPolicy(command: string): string {
  return `ERR ${command.toUpperCase()} is not known to this version of Slotway, so it is not forwarded`;
}

/**
 * A script of a client whose rights are narrower than Slotway's (--deny-commands,
 * its users-file rules) cannot run: the node refused to create or authenticate
 * the ACL user that would hold it to them. `reason`: the step and the node's error.
 */
export function scriptsDisabled(reason: string): string {
  return `ERR scripts are disabled on this Slotway: its node user cannot create the ACL user that enforces --deny-commands on scripts (${reason})`;
}

/** EVAL/FCALL in a transaction already pinned to a connection with Slotway's own rights. */
export function scriptAfterPin(command: string): string {
  return `ERR ${command.toUpperCase()} inside MULTI must come before any other keyed command or WATCH of the transaction through Slotway: scripts run as a node user with this client's rights (--deny-commands)`;
}

/** SCRIPT KILL / FUNCTION KILL could not be delivered to a master (out-of-band connection failed or timed out). */
export function outOfBandFailed(command: string, node: string, reason: string): string {
  return `ERR Slotway could not deliver ${command.toUpperCase()} to ${node} (${reason}); a script may still run there`;
}

// CLIENT TRACKING and CLIENT CACHING, as Redis 7 words them.
export const TRACKING_ONE_REDIRECT = 'ERR A client can only redirect to a single other client';
export const TRACKING_NO_REDIRECT_CLIENT = 'ERR The client ID you want redirect to does not exist';
export const TRACKING_PREFIX_NEEDS_BCAST = 'ERR PREFIX option requires BCAST mode to be enabled';
export const TRACKING_SWITCH_BCAST =
  "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
export const TRACKING_BCAST_OPTIN = 'ERR OPTIN and OPTOUT are not compatible with BCAST';
export const TRACKING_OPTIN_AND_OPTOUT = "ERR You can't specify both OPTIN mode and OPTOUT mode";
export const TRACKING_SWITCH_OPTIN =
  "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
export const TRACKING_CACHING_WITHOUT_MODE =
  'ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled';
export const TRACKING_CACHING_YES = 'ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.';
export const TRACKING_CACHING_NO = 'ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.';

export function trackingPrefixOverlapsExisting(prefix: string, existing: string): string {
  return `ERR Prefix '${prefix}' overlaps with an existing prefix '${existing}'. Prefixes for a single client must not overlap.`;
}

export function trackingPrefixOverlaps(prefix: string, other: string): string {
  return `ERR Prefix '${prefix}' overlaps with another provided prefix '${other}'. Prefixes for a single client must not overlap.`;
}

/** CLIENT PAUSE / UNPAUSE hold or release every client of Slotway: users-file admins only, as node administration. */
export function clientAdminOnly(command: string): string {
  return `NOPERM ${command} holds every client of Slotway: only a user its --users-file makes an admin (+@admin) may run it`;
}

/** PROXY HOTKEYS / BIGKEYS while --hotkeys-sample-rate is 0. */
export const HOTKEYS_OFF = 'ERR hot key sampling is off (--hotkeys-sample-rate 0)';
