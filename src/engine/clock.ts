// Time is an input (DESIGN.md): every rate, age and timeout in the engine is computed from a
// Clock it is given — the wall clock when serving, the capture's timestamps when replaying a
// file, a hand-driven clock in tests.

/** Milliseconds since the Unix epoch, as the engine sees them. */
export interface Clock {
  now(): number;
}

/** The system clock. */
export const wallClock: Clock = { now: () => Date.now() };

/** A clock driven by hand (tests). */
export class ManualClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  set(ms: number): void {
    this.t = ms;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/**
 * Capture time. While a capture is fed as fast as possible the clock is set to each datagram's
 * timestamp and stands still between them; when fed at the capture's own pace, or after the
 * capture ended (unless `hold`), it runs on from the last anchor at wall-clock speed.
 */
export class CaptureClock implements Clock {
  private base: number;
  private wallAnchor = 0;
  private running = false;

  constructor(
    startMs: number,
    private readonly wall: Clock = wallClock,
  ) {
    this.base = startMs;
  }

  now(): number {
    return this.running ? this.base + (this.wall.now() - this.wallAnchor) : this.base;
  }

  /** Stop at `ms` (fast replay: time moves only with the datagrams). */
  hold(ms: number): void {
    this.base = ms;
    this.running = false;
  }

  /** Run on from `ms` at wall-clock speed. */
  run(ms: number): void {
    this.base = ms;
    this.wallAnchor = this.wall.now();
    this.running = true;
  }

  get isRunning(): boolean {
    return this.running;
  }
}
