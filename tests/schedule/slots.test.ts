import { describe, expect, it } from 'vitest';
import { runSlots } from '../../agent/schedule/slots.js';

function gate() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('run slots', () => {
  it('run at most the limit at once, start the rest in order as slots free, and free a slot when a run fails', async () => {
    let limit = 2;
    const slots = runSlots(() => limit);
    let active = 0;
    let most = 0;
    const started: number[] = [];
    const gates = Array.from({ length: 5 }, gate);
    const runs = gates.map((g, i) =>
      slots.run(async () => {
        started.push(i);
        active++;
        most = Math.max(most, active);
        await g.promise;
        active--;
        if (i === 0) throw new Error('run 0 failed');
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(slots.waiting).toBe(3);
    gates[0]!.resolve();
    await expect(runs[0]).rejects.toThrow('run 0 failed');
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    // A raised limit (config reload) lets more start at the next free slot.
    limit = 3;
    gates[1]!.resolve();
    await runs[1];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2, 3, 4]);
    for (const g of gates) g.resolve();
    expect(await Promise.all(runs.slice(1))).toEqual([1, 2, 3, 4]);
    expect(most).toBe(3);
    expect(slots.active).toBe(0);
  });
});
