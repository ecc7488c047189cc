import { describe, expect, it } from 'vitest';
import { runSliced } from './sliced.js';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('runSliced', () => {
  it('runs every step, and lets other callbacks run between slices', async () => {
    const order: string[] = [];
    function* steps(): Generator<void, void, void> {
      for (let i = 0; i < 50; i++) {
        busy(0.5);
        order.push(`step ${i}`);
        yield;
      }
    }
    const done = runSliced(steps(), 2);
    setImmediate(() => order.push('other'));
    await done;
    expect(order.filter((x) => x.startsWith('step'))).toHaveLength(50);
    // 25 ms of work in slices of 2 ms: the other callback ran before the last step, not after.
    const other = order.indexOf('other');
    expect(other).toBeGreaterThan(0);
    expect(other).toBeLessThan(order.length - 1);
  });

  it('an empty generator finishes at once', async () => {
    function* none(): Generator<void, void, void> {}
    await expect(runSliced(none())).resolves.toBeUndefined();
  });
});
