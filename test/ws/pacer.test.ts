/** A socket's send limits: `SendPacer` (one rolling `Budget` per limit) and the ordered `Outbox`. */
import { describe, expect, it } from 'vitest';
import type { WsClock } from '../../src/clients/ws/clock.js';
import { Outbox, SendPacer } from '../../src/clients/ws/pacer.js';

/** A `WsClock` whose time and timers move only on `advance`. */
function manualClock(start = 0) {
  let t = start;
  let nextId = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock: WsClock = {
    now: () => t,
    setTimeout: (fn, ms) => {
      const id = ++nextId;
      timers.set(id, { at: t + ms, fn });
      return id;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
  };
  const advance = (ms: number) => {
    const end = t + ms;
    for (;;) {
      const due = [...timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      timers.delete(due[0]);
      t = due[1].at;
      due[1].fn();
    }
    t = end;
  };
  return { clock, advance, pending: () => timers.size };
}

describe('SendPacer and Outbox', () => {
  it('behavior: a per-second limit spaces messages on the socket clock, in the order they were queued', () => {
    const { clock, advance } = manualClock(0);
    const sent: { at: number; message: string }[] = [];
    const pacer = new SendPacer([{ limit: 2, intervalMs: 1_000 }], clock);
    const outbox = new Outbox(pacer, clock, (message) => {
      sent.push({ at: clock.now(), message });
      return true;
    });
    for (const m of ['sub1', 'sub2', 'sub3']) outbox.send(m, true);
    outbox.send('ping', false);
    outbox.send('sub4', true);
    expect(sent.map((s) => s.message)).toEqual(['sub1', 'sub2']);
    advance(5_000);
    // The heartbeat waits behind sub3 (it is counted by this limit) and never overtakes it.
    expect(sent.map((s) => s.message)).toEqual(['sub1', 'sub2', 'sub3', 'ping', 'sub4']);
    const at = sent.map((s) => s.at);
    for (let i = 2; i < at.length; i++) expect(at[i]! - at[i - 2]!).toBeGreaterThanOrEqual(1_000);
    expect(at[2]).toBeLessThanOrEqual(1_001);
  });

  it('behavior: a subscribe-only limit lets a heartbeat through when no subscribe waits, and holds one queued behind a subscribe', () => {
    const { clock, advance, pending } = manualClock(0);
    const sent: string[] = [];
    const pacer = new SendPacer([{ limit: 1, intervalMs: 60_000, subscribeOnly: true }], clock);
    const outbox = new Outbox(pacer, clock, (message) => {
      sent.push(message);
      return true;
    });
    outbox.send('sub1', true);
    outbox.send('ping1', false);
    expect(sent).toEqual(['sub1', 'ping1']);
    outbox.send('sub2', true);
    outbox.send('ping2', false);
    expect(sent).toEqual(['sub1', 'ping1']);
    expect(pacer.waitFor(false)).toBe(0);
    expect(pacer.waitFor(true)).toBeGreaterThan(59_000);
    advance(60_001);
    expect(sent).toEqual(['sub1', 'ping1', 'sub2', 'ping2']);
    expect(pending()).toBe(0);
  });

  it('behavior: the count outlives one socket: a new Outbox on the same pacer waits for what the last one spent', () => {
    const { clock, advance } = manualClock(0);
    const pacer = new SendPacer([{ limit: 1, intervalMs: 1_000 }], clock);
    const first: string[] = [];
    new Outbox(pacer, clock, (m) => first.push(m) > 0).send('a', true);
    const second: string[] = [];
    const outbox = new Outbox(pacer, clock, (m) => second.push(m) > 0);
    outbox.send('b', true);
    expect(second).toEqual([]);
    advance(1_001);
    expect(second).toEqual(['b']);
  });
});
