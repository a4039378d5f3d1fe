// Counters of the client side, read by INFO (and metrics, later).
import type { Session } from './session.js';

export class ServerStats {
  readonly startedAt = Date.now();
  readonly sessions = new Set<Session>();
  connectionsReceived = 0;
  commands = 0;
  protocolErrors = 0;
  internalErrors = 0;
  /** Subscribers or monitors closed for leaving too much output unread. */
  outputLimitClosures = 0;
  /** Set once a graceful shutdown began: readiness turns false, new clients are refused. */
  draining = false;

  onClientOpened(session: Session): void {
    this.connectionsReceived++;
    this.sessions.add(session);
  }

  onClientClosed(session: Session): void {
    this.sessions.delete(session);
  }
}
