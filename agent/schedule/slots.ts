/** At most `limit()` tasks at once; the rest wait their turn in order. */
export function runSlots(limit: () => number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  const next = () => {
    while (active < Math.max(1, limit()) && waiting.length > 0) {
      active++;
      waiting.shift()!();
    }
  };
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        next();
      });
      try {
        return await fn();
      } finally {
        active--;
        next();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return waiting.length;
    },
  };
}
