/** A per-request signal and whether it fired because time ran out. */
export interface Deadline {
  readonly signal: AbortSignal;
  readonly expired: boolean;
  dispose(): void;
}

/**
 * A signal for one request: aborts when `parent` does or after `ms`. Unlike `AbortSignal.timeout` with
 * `AbortSignal.any`, `dispose()` releases the timer and the listener the moment the request is done,
 * so a long backfill does not keep thousands of pending timers and dependent signals alive.
 */
export function deadline(parent: AbortSignal | undefined, ms: number): Deadline {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DOMException(`Request timed out after ${ms} ms`, 'TimeoutError'));
  }, ms);
  const onAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) onAbort();
  else parent?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onAbort);
    },
  };
}
