// Long work in slices: run a generator's steps for at most `sliceMs` at a time, leaving the event
// loop free in between, so the UDP ring keeps draining and other requests keep being answered.

/** Run `steps` to the end, yielding to the event loop every `sliceMs` of work. */
export async function runSliced(steps: Generator<void, void, void>, sliceMs = 5): Promise<void> {
  for (;;) {
    const until = performance.now() + sliceMs;
    for (;;) {
      if (steps.next().done) return;
      if (performance.now() >= until) break;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
