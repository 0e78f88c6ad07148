/** The per-egress budget on its own: what it lets through, when, and how it resumes. */
import { afterEach, describe, expect, it } from 'vitest';
import { Budget } from '../../src/clients/transport/budget.js';
import { ClosedError } from '../../src/core/errors.js';

const budgets: Budget[] = [];
afterEach(async () => {
  while (budgets.length > 0) await budgets.pop()!.close();
});
const make = (...args: ConstructorParameters<typeof Budget>) => {
  const b = new Budget(...args);
  budgets.push(b);
  return b;
};

describe('Budget', () => {
  it('behavior: rolling budgets count units, not requests: no window of intervalMs ever holds more than the limit', async () => {
    const budget = make({ limit: 40, intervalMs: 400, window: 'rolling' });
    const starts: { at: number; cost: number }[] = [];
    const t0 = Date.now();
    // Five 20-unit requests against 40 units per 400 ms: two now, two after 400 ms, one after 800 ms.
    await Promise.all(
      Array.from({ length: 5 }, () =>
        budget.schedule(20, async () => {
          starts.push({ at: Date.now() - t0, cost: 20 });
        }),
      ),
    );
    expect(starts).toHaveLength(5);
    for (const s of starts) {
      const inWindow = starts
        .filter((o) => o.at > s.at - 400 && o.at <= s.at)
        .reduce((a, o) => a + o.cost, 0);
      expect(inWindow).toBeLessThanOrEqual(40);
    }
  });

  it('behavior: units spent by requests that went out at once hold back the ones that queue later in the window', async () => {
    const interval = 1_000;
    // Start just after a fixed-window boundary so the first phase cannot straddle one.
    await new Promise((r) => setTimeout(r, interval - (Date.now() % interval) + 5));
    const budget = make({ limit: 5, intervalMs: interval, window: 'fixed' });
    const windowOf = (t: number) => Math.floor(t / interval);
    const first = windowOf(Date.now());
    const starts: number[] = [];
    const request = () => budget.schedule(1, async () => void starts.push(windowOf(Date.now()) - first));
    // Three go out at once, one at a time, with nothing waiting; the venue then reports one more used.
    for (let i = 0; i < 3; i++) await request();
    budget.observeUsed(4, Date.now());
    expect(budget.headroom()).toBe(1);
    // Four more at once: one fits what is left, three wait for the next window.
    await Promise.all(Array.from({ length: 4 }, request));
    expect(starts).toEqual([0, 0, 0, 0, 1, 1, 1]);
  });

  it('behavior: a pause shorter than the window resumes at its end, not at the next boundary', async () => {
    const budget = make({ limit: 10, intervalMs: 60_000, window: 'fixed' });
    budget.pause(Date.now() + 150);
    const t0 = Date.now();
    await budget.schedule(1, async () => undefined);
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(5_000);
  });

  it('behavior: the venue-reported usage lowers what is left in the window', async () => {
    const budget = make({ limit: 100, intervalMs: 60_000, window: 'fixed' });
    expect(budget.headroom()).toBe(100);
    budget.observeUsed(90, Date.now());
    expect(budget.headroom()).toBe(10);
    budget.observeUsed(50, Date.now()); // never raises it again
    expect(budget.headroom()).toBe(10);
  });

  it('behavior: a waiting request whose signal aborts is dropped and its units stay available', async () => {
    const budget = make({ limit: 2, intervalMs: 60_000, window: 'fixed' });
    await budget.schedule(2, async () => undefined);
    const controller = new AbortController();
    const waiting = budget.schedule(1, async () => 'ran', controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    expect(budget.headroom()).toBe(0);
  });

  it('error: a closed budget rejects new and waiting work with ClosedError (code CLOSED), not a plain Error', async () => {
    const budget = make({ limit: 1, intervalMs: 60_000, window: 'fixed' });
    await budget.schedule(1, async () => undefined);
    const waiting = budget.schedule(1, async () => 'ran');
    await budget.close();
    await expect(waiting).rejects.toBeInstanceOf(ClosedError);
    const late = await budget.schedule(1, async () => 'ran').catch((e: unknown) => e);
    expect(late).toBeInstanceOf(ClosedError);
    expect((late as ClosedError).code).toBe('CLOSED');
  });
});
