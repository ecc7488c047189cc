// Sequence-number accounting, the way sFlow-RT 3.1 does it (recorded in
// ../shared/testdata/sflow-rt/README.md §2; `seqno.maxdelta` 20, `seqno.maxoutoforder` 2):
//   delta = seq - last (32-bit, wrapping)
//   0                         duplicate (ignored)
//   1 .. maxDelta-1           in order; delta-1 lost
//   >= maxDelta               a jump: counted out-of-order, sequence resynchronised
//   -maxOutOfOrder .. -1      late arrival: out-of-order (the baseline stays)
//   < -maxOutOfOrder          restart (the sender's sequence began again)

export interface SequenceConfig {
  /** A forward jump this large or larger is a resync, not loss. Default 20 (sFlow-RT `seqno.maxdelta`). */
  maxDelta: number;
  /** A step back this far at most is a late (out-of-order) arrival; further back is a restart. Default 2. */
  maxOutOfOrder: number;
}

export const DEFAULT_SEQUENCE_CONFIG: SequenceConfig = { maxDelta: 20, maxOutOfOrder: 2 };

/** What a sequence number says about the sample or datagram carrying it. */
export const enum SeqVerdict {
  First = 0,
  InOrder = 1,
  /** In order, after a gap (some were lost). */
  Gap = 2,
  /** Far ahead of the last one: resynchronised (counted out-of-order, like sFlow-RT). */
  Jump = 3,
  /** Older than the last one: a late arrival. */
  Late = 4,
  Duplicate = 5,
  /** The sender restarted its sequence. */
  Restart = 6,
}

/** Running accounting of one sequence-number space (a sub-agent's datagrams, a data source's samples). */
export class SequenceTracker {
  /** Last in-order sequence number, or -1 before the first. */
  last = -1;
  received = 0;
  lost = 0;
  duplicates = 0;
  outOfOrder = 0;
  restarts = 0;

  /** Account for `seq`; returns the verdict. */
  track(seq: number, cfg: SequenceConfig): SeqVerdict {
    this.received++;
    if (this.last < 0) {
      this.last = seq;
      return SeqVerdict.First;
    }
    const delta = (seq - this.last) | 0;
    if (delta === 1) {
      this.last = seq;
      return SeqVerdict.InOrder;
    }
    if (delta === 0) {
      this.duplicates++;
      return SeqVerdict.Duplicate;
    }
    if (delta > 0) {
      this.last = seq;
      if (delta < cfg.maxDelta) {
        this.lost += delta - 1;
        return SeqVerdict.Gap;
      }
      this.outOfOrder++;
      return SeqVerdict.Jump;
    }
    if (delta >= -cfg.maxOutOfOrder) {
      this.outOfOrder++;
      return SeqVerdict.Late;
    }
    this.last = seq;
    this.restarts++;
    return SeqVerdict.Restart;
  }
}
