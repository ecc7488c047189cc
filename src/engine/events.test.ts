// Event log: ids, newest-first queries, bounds by count and age, long-poll waits and their bounds.

import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { EventLog, TooManyWaitersError, type NewEvent } from './events.js';

const T0 = 1_800_000_000_000;

function ev(thresholdID: string, timestamp: number, value = 1): NewEvent {
  return { timestamp, thresholdID, metric: 'load_one', agent: '10.0.0.1', dataSource: '2.1', value, threshold: 0.5 };
}

describe('EventLog', () => {
  it('numbers events from 1 and answers newest first, after an id, per threshold, at most maxEvents', () => {
    const clock = new ManualClock(T0);
    const log = new EventLog(clock);
    for (let i = 0; i < 5; i++) log.append(ev(i % 2 === 0 ? 'even' : 'odd', T0 + i));
    expect(log.lastId).toBe(5);
    expect(log.query().map((e) => e.eventID)).toEqual([5, 4, 3, 2, 1]);
    expect(log.query({ after: 3 }).map((e) => e.eventID)).toEqual([5, 4]);
    expect(log.query({ after: 5 })).toEqual([]);
    expect(log.query({ thresholdID: 'odd' }).map((e) => e.eventID)).toEqual([4, 2]);
    expect(log.query({ maxEvents: 2 }).map((e) => e.eventID)).toEqual([5, 4]);
    expect(log.query({ maxEvents: 0 })).toEqual([]);
    // An id from an earlier run (beyond the last one): everything, not a wait for ids to catch up.
    expect(log.query({ after: 900 }).map((e) => e.eventID)).toEqual([5, 4, 3, 2, 1]);
    expect(log.query()[0]).toEqual({ eventID: 5, timestamp: T0 + 4, thresholdID: 'even', metric: 'load_one', agent: '10.0.0.1', dataSource: '2.1', value: 1, threshold: 0.5 });
  });

  it('keeps at most maxEvents (the oldest go first) and nothing older than maxAgeMs', () => {
    const clock = new ManualClock(T0);
    const log = new EventLog(clock, { maxEvents: 3, maxAgeMs: 10_000 });
    for (let i = 0; i < 5; i++) log.append(ev('t', T0 + i * 1000));
    expect(log.size).toBe(3);
    expect(log.query().map((e) => e.eventID)).toEqual([5, 4, 3]);
    expect(log.stats.droppedByCount).toBe(2);
    clock.set(T0 + 12_500); // events at T0+2000 and before are older than 10 s
    expect(log.query().map((e) => e.eventID)).toEqual([5, 4]);
    clock.set(T0 + 60_000);
    expect(log.query()).toEqual([]);
    expect(log.size).toBe(0);
    expect(log.stats.droppedByAge).toBe(3);
    log.append(ev('t', T0 + 60_000));
    expect(log.query().map((e) => e.eventID)).toEqual([6]);
  });

  it('a wait answers at once when there is something newer, else with the first new events', async () => {
    const clock = new ManualClock(T0);
    const log = new EventLog(clock);
    log.append(ev('a', T0));
    expect((await log.wait({ after: -1 }, 5_000)).map((e) => e.eventID)).toEqual([1]);
    const p = log.wait({ after: 1 }, 5_000);
    expect(log.waiting).toBe(1);
    // Events of one evaluation round arrive together.
    log.append(ev('a', T0 + 1));
    log.append(ev('b', T0 + 1));
    expect((await p).map((e) => e.eventID)).toEqual([3, 2]);
    expect(log.waiting).toBe(0);
  });

  it('a wait for one threshold ignores the others; a wait times out with []', async () => {
    const clock = new ManualClock(T0);
    const log = new EventLog(clock);
    const p = log.wait({ after: 0, thresholdID: 'b' }, 5_000);
    log.append(ev('a', T0));
    await new Promise((r) => setImmediate(r));
    expect(log.waiting).toBe(1);
    log.append(ev('b', T0));
    expect((await p).map((e) => e.thresholdID)).toEqual(['b']);
    const t0 = Date.now();
    expect(await log.wait({ after: 2 }, 50)).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
    expect(log.stats.waitsTimedOut).toBe(1);
  });

  it('bounds: the longest wait is capped, waiters beyond the limit are refused, abort and close release them', async () => {
    const clock = new ManualClock(T0);
    const log = new EventLog(clock, { maxWaiters: 2, maxWaitMs: 30 });
    const t0 = Date.now();
    expect(await log.wait({}, 60_000)).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(5_000);
    const ac = new AbortController();
    const a = log.wait({}, 60_000, ac.signal);
    const b = log.wait({}, 60_000);
    await expect(log.wait({}, 60_000)).rejects.toBeInstanceOf(TooManyWaitersError);
    expect(log.stats.waitsRefused).toBe(1);
    ac.abort();
    expect(await a).toEqual([]);
    expect(log.waiting).toBe(1);
    log.close();
    expect(await b).toEqual([]);
    expect(log.waiting).toBe(0);
    // Closed: waits answer at once.
    expect(await log.wait({}, 60_000)).toEqual([]);
  });

  it('subscribers see every event as it is appended', () => {
    const log = new EventLog(new ManualClock(T0));
    const seen: number[] = [];
    const off = log.subscribe((e) => seen.push(e.eventID));
    log.subscribe(() => {
      throw new Error('a bad listener does not stop the others');
    });
    log.append(ev('a', T0));
    off();
    log.append(ev('a', T0));
    expect(seen).toEqual([1]);
  });
});
