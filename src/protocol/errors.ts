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

export function tooManyRedirects(last: string): string {
  return `ERR Slotway followed too many redirects; last reply: ${last}`;
}
