// CLIENT REPLY ON|OFF|SKIP, on Slotway's side: the commands still run on the
// nodes (the shared connections never change reply mode); their replies are
// dropped in the session instead of written. The mode is applied as each
// request joins the session's reply queue, so order is kept whatever order
// the nodes answer in:
//
//   SKIP: the SKIP command's own request is silent, the next one too, then On
//   OFF:  every request is silent (OFF's own included) until CLIENT REPLY ON
//   ON:   set before its own request joins, so its +OK is written
//
// As in Redis, SKIP while OFF changes nothing, and two SKIPs in a row skip
// only the command after the second (the second SKIP is the one skipped).
import type { Request } from '../router/request.js';

export const enum ReplyMode {
  On = 0,
  Off = 1,
  /** CLIENT REPLY SKIP was just said: its own request is next to join. */
  SkipNext = 2,
  /** The next request's reply is dropped. */
  Skip = 3,
}

/** Marks `request` silent as `mode` asks; returns the mode for the request after it. */
export function applyReplyMode(mode: ReplyMode, request: Request): ReplyMode {
  switch (mode) {
    case ReplyMode.On:
      return mode;
    case ReplyMode.Off:
      request.silent = true;
      return mode;
    case ReplyMode.SkipNext:
      request.silent = true;
      return ReplyMode.Skip;
    default:
      request.silent = true;
      return ReplyMode.On;
  }
}
