// Protocol bounds, with the defaults Redis uses for the same limits.

export interface ProtocolLimits {
  /** Longest bulk argument accepted (Redis `proto-max-bulk-len`). */
  readonly maxBulkLength: number;
  /** Most arguments in one command (Redis accepts up to INT_MAX). */
  readonly maxArguments: number;
  /** Longest inline command or header line (Redis PROTO_INLINE_MAX_SIZE). */
  readonly maxInlineLength: number;
  /** Most bytes held for one incomplete command (Redis `client-query-buffer-limit`). */
  readonly maxQueryBuffer: number;
}

export const DEFAULT_LIMITS: ProtocolLimits = Object.freeze({
  maxBulkLength: 512 * 1024 * 1024,
  maxArguments: 2147483647,
  maxInlineLength: 64 * 1024,
  maxQueryBuffer: 1024 * 1024 * 1024,
});

/**
 * Before a client has authenticated (a password is required), Redis 7 takes
 * at most this many arguments and bulks of at most this many bytes
 * (networking.c, processMultibulkBuffer, `authRequired(c)`): an unknown
 * client cannot make the server hold a 512 MB argument it announced.
 */
export const PRE_AUTH_MAX_ARGUMENTS = 10;
export const PRE_AUTH_MAX_BULK_LENGTH = 16384;
