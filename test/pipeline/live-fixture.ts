/**
 * Shared by the live tests: waiting on a simulated clock, and closing what a test opened after it.
 */
import { afterEach } from 'vitest';

/** Resolves once `clock` reads `t` or later (polled every 20 real ms). */
export async function waitUntil(clock: { now(): number }, t: number): Promise<void> {
  while (clock.now() < t) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Closers run, newest first, after each test of the file that calls this. */
export function closeAfterEach(): (() => Promise<void>)[] {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanup.length > 0) await cleanup.pop()!();
  });
  return cleanup;
}
