// Event-loop lag of the server process, for /analyzer/json: how late the main thread runs timers,
// which is how late it answers HTTP requests and drains the UDP ring. The soak test
// (scripts/soak.ts, docs/performance.md) reads these fields.
//
// Figures are "recent": a histogram is read and reset every `windowMs`, and the last complete
// window is reported, so a slow moment an hour ago does not hide today's figure, and two clients
// polling /analyzer/json (Status page, soak poller) do not reset each other's view. A second
// histogram that is never reset gives the figures since start.

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface EventLoopLagOptions {
  /** Sampling timer period, ms. Default 10. Lag finer than this is not seen. */
  resolutionMs?: number;
  /** Length of the reported window, ms. Default 10,000. */
  windowMs?: number;
}

/** One window's figures, ms (lag beyond the sampling period; 0 when nothing was sampled). */
export interface EventLoopLagFigures {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Timer wake-ups measured. */
  samples: number;
}

export const DEFAULT_EVENT_LOOP_LAG_OPTIONS: Required<EventLoopLagOptions> = { resolutionMs: 10, windowMs: 10_000 };

const ms3 = (ns: number, resolutionMs: number): number => Math.max(0, Math.round((ns / 1e6 - resolutionMs) * 1000) / 1000);

export class EventLoopLag {
  readonly options: Required<EventLoopLagOptions>;
  private window: IntervalHistogram | null = null;
  private total: IntervalHistogram | null = null;
  private timer: NodeJS.Timeout | null = null;
  private last: EventLoopLagFigures | null = null;

  constructor(options: EventLoopLagOptions = {}) {
    this.options = { ...DEFAULT_EVENT_LOOP_LAG_OPTIONS, ...options };
  }

  start(): void {
    if (this.window !== null) return;
    // Node records the whole interval between wake-ups (resolution + lag); figures subtract it.
    const resolution = Math.max(1, Math.round(this.options.resolutionMs));
    this.window = monitorEventLoopDelay({ resolution });
    this.total = monitorEventLoopDelay({ resolution });
    this.window.enable();
    this.total.enable();
    this.timer = setInterval(() => this.roll(), this.options.windowMs);
    this.timer.unref();
  }

  /** Release the sampling timers. Idempotent. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.window?.disable();
    this.total?.disable();
    this.window = null;
    this.total = null;
  }

  /** The last complete window; before the first one completes, the window so far. */
  recent(): EventLoopLagFigures {
    return this.last ?? this.figures(this.window);
  }

  /** Since start(). */
  sinceStart(): EventLoopLagFigures {
    return this.figures(this.total);
  }

  /** The /analyzer/json fields (sflowscope extensions, documented in docs/performance.md). */
  analyzerFields(): Record<string, number> {
    const r = this.recent();
    const t = this.sinceStart();
    return {
      eventLoopLagP50Ms: r.p50Ms,
      eventLoopLagP99Ms: r.p99Ms,
      eventLoopLagMaxMs: r.maxMs,
      eventLoopLagMeanMs: r.meanMs,
      eventLoopLagWindowMs: this.options.windowMs,
      eventLoopLagP99MsSinceStart: t.p99Ms,
      eventLoopLagMaxMsSinceStart: t.maxMs,
    };
  }

  private roll(): void {
    if (this.window === null) return;
    this.last = this.figures(this.window);
    this.window.reset();
  }

  private figures(h: IntervalHistogram | null): EventLoopLagFigures {
    if (h === null || h.count === 0) return { p50Ms: 0, p99Ms: 0, maxMs: 0, meanMs: 0, samples: 0 };
    const res = Math.max(1, Math.round(this.options.resolutionMs));
    return {
      p50Ms: ms3(h.percentile(50), res),
      p99Ms: ms3(h.percentile(99), res),
      maxMs: ms3(h.max, res),
      meanMs: ms3(h.mean, res),
      samples: h.count,
    };
  }
}
