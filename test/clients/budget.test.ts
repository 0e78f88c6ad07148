/** The per-egress budget on its own: what it lets through, when, and how it resumes. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Budget } from '../../src/clients/transport/budget.js';
import { ClosedError, InvalidArgumentError } from '../../src/core/errors.js';

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

/** A clock that moves only when told: the pacing API reads it and nothing else. */
function manualClock(start: number) {
  let t = start;
  return {
    now: () => t,
    set: (ms: number) => {
      t = ms;
    },
  };
}

describe('Budget pacing (waitFor / spend on the caller’s clock)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('behavior: fixed window: spent units come back at the next boundary, all at once', () => {
    const clock = manualClock(10_500);
    const budget = make({ limit: 3, intervalMs: 1_000, window: 'fixed' }, clock.now);
    expect(budget.waitFor(3)).toBe(0);
    budget.spend(2);
    expect(budget.waitFor(1)).toBe(0);
    // Two spent of three: two more wait for the boundary at 11_000, not a full interval from now.
    expect(budget.waitFor(2)).toBe(500);
    budget.spend(1);
    expect(budget.waitFor(1)).toBe(500);
    clock.set(10_999);
    expect(budget.waitFor(1)).toBe(1);
    clock.set(11_000);
    expect(budget.waitFor(3)).toBe(0);
    expect(budget.headroom()).toBe(3);
  });

  it('behavior: fixed window: what the venue reports as used holds back pacing until the boundary', () => {
    const clock = manualClock(60_000);
    const budget = make({ limit: 10, intervalMs: 60_000, window: 'fixed' }, clock.now);
    budget.observeUsed(9, 60_000);
    expect(budget.waitFor(1)).toBe(0);
    expect(budget.waitFor(2)).toBe(60_000);
  });

  it('behavior: rolling window: each unit comes back intervalMs after it was spent, oldest first', () => {
    const clock = manualClock(0);
    const budget = make({ limit: 3, intervalMs: 1_000, window: 'rolling' }, clock.now);
    budget.spend(1);
    clock.set(200);
    budget.spend(1);
    clock.set(700);
    budget.spend(1);
    clock.set(800);
    // The unit spent at 0 is back at 1_000; two units need the one spent at 200 too (1_200).
    expect(budget.waitFor(1)).toBe(200);
    expect(budget.waitFor(2)).toBe(400);
    expect(budget.waitFor(3)).toBe(900);
    clock.set(1_000);
    expect(budget.waitFor(1)).toBe(0);
    expect(budget.waitFor(2)).toBe(200);
    budget.spend(1);
    // No window of 1_000 ms holds more than 3: 200, 700, 1_000 are in; the next fits at 1_200.
    expect(budget.waitFor(1)).toBe(200);
  });

  it('behavior: a 429 pause holds pacing until its end even with units left; a rolling budget keeps its spent units', () => {
    const clock = manualClock(1_000);
    const fixed = make({ limit: 10, intervalMs: 60_000, window: 'fixed' }, clock.now);
    const rolling = make({ limit: 2, intervalMs: 1_000, window: 'rolling' }, clock.now);
    rolling.spend(2);
    fixed.pause(1_300);
    rolling.pause(1_300);
    expect(fixed.waitFor(1)).toBe(300);
    expect(rolling.waitFor(1)).toBe(300);
    clock.set(1_299);
    expect(fixed.waitFor(1)).toBe(1);
    clock.set(1_300);
    // The fixed budget starts a new window when the pause ends; the rolling one still counts the two
    // units spent at 1_000 until 2_000.
    expect(fixed.waitFor(10)).toBe(0);
    expect(rolling.waitFor(1)).toBe(700);
    clock.set(2_000);
    expect(rolling.waitFor(2)).toBe(0);
  });

  it('error: a cost larger than the limit never fits: waitFor and schedule say so (InvalidArgumentError) instead of waiting forever', async () => {
    const clock = manualClock(0);
    const budget = make({ limit: 3, intervalMs: 1_000, window: 'rolling' }, clock.now);
    expect(() => budget.waitFor(4)).toThrow(InvalidArgumentError);
    expect(budget.waitFor(3)).toBe(0);
    await expect(budget.schedule(4, async () => 'ran')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(budget.headroom()).toBe(3);
  });

  it('behavior: pacing starts no timer, even while paused', () => {
    vi.useFakeTimers();
    const clock = manualClock(0);
    const budget = make({ limit: 2, intervalMs: 1_000, window: 'rolling' }, clock.now);
    budget.spend(2);
    expect(budget.waitFor(1)).toBe(1_000);
    budget.pause(5_000);
    expect(budget.waitFor(1)).toBe(5_000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('error: a closed budget refuses waitFor and spend with ClosedError', async () => {
    const budget = make({ limit: 2, intervalMs: 1_000, window: 'fixed' });
    await budget.close();
    expect(() => budget.waitFor(1)).toThrow(ClosedError);
    expect(() => budget.spend(1)).toThrow(ClosedError);
  });
});
