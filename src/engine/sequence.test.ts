import { describe, expect, it } from 'vitest';
import { DEFAULT_SEQUENCE_CONFIG, SeqVerdict, SequenceTracker } from './sequence.js';

function run(seqs: number[]) {
  const t = new SequenceTracker();
  const verdicts = seqs.map((s) => t.track(s, DEFAULT_SEQUENCE_CONFIG));
  return { t, verdicts };
}

describe('SequenceTracker (sFlow-RT rules)', () => {
  it('counts gaps below maxDelta as loss', () => {
    const { t, verdicts } = run([1, 2, 5, 6]);
    expect(verdicts).toEqual([SeqVerdict.First, SeqVerdict.InOrder, SeqVerdict.Gap, SeqVerdict.InOrder]);
    expect(t.lost).toBe(2);
    expect(t.received).toBe(4);
  });

  it('counts a jump of maxDelta or more as out-of-order, not loss (as sFlow-RT: tunnels capture)', () => {
    const { t } = run([1, 21, 22, 60]);
    expect(t.lost).toBe(0);
    expect(t.outOfOrder).toBe(2);
  });

  it('duplicates and late arrivals', () => {
    const { t, verdicts } = run([10, 11, 11, 13, 12, 14]);
    expect(verdicts).toEqual([SeqVerdict.First, SeqVerdict.InOrder, SeqVerdict.Duplicate, SeqVerdict.Gap, SeqVerdict.Late, SeqVerdict.InOrder]);
    expect(t.duplicates).toBe(1);
    expect(t.outOfOrder).toBe(1);
    expect(t.lost).toBe(1);
  });

  it('a step back beyond maxOutOfOrder is a restart', () => {
    const { t, verdicts } = run([20, 21, 1, 2]);
    expect(verdicts[2]).toBe(SeqVerdict.Restart);
    expect(verdicts[3]).toBe(SeqVerdict.InOrder);
    expect(t.restarts).toBe(1);
  });

  it('wraps at 2^32', () => {
    const { t, verdicts } = run([0xfffffffe, 0xffffffff, 0, 1]);
    expect(verdicts.slice(1)).toEqual([SeqVerdict.InOrder, SeqVerdict.InOrder, SeqVerdict.InOrder]);
    expect(t.lost).toBe(0);
  });
});
