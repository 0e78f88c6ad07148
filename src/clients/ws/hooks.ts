import type { PerpdataError, WebSocketError } from '../../core/errors.js';
import type { ReconnectReason, TopicSpec } from './types.js';

/** What a connection tells the stream that owns it. */
export interface ConnectionHooks<T> {
  /** Records of a topic arrived. */
  data(records: readonly T[], topic: TopicSpec | undefined, topicId: string): void;
  /** The socket is open and every topic was (re)subscribed. `first` on the very first open. */
  open(info: { first: boolean; attempt: number; downtimeMs: number; url: string; topics: number }): void;
  /** The connection will be retried after `delayMs`. */
  reconnecting(info: {
    attempt: number;
    delayMs: number;
    reason: ReconnectReason;
    error?: PerpdataError | undefined;
  }): void;
  /** A topic missed its cadence. */
  stalled(topic: TopicSpec, silentMs: number): void;
  /** The venue refused a topic: it is dropped from this connection for good. */
  refused(topic: string, error: WebSocketError, unknownSymbol: boolean): void;
  /** A frame could not be decoded; the connection goes on. */
  malformed(error: PerpdataError): void;
}
