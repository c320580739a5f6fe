/**
 * Waiting that a stop can cut short. Here because the sources (HTTP retry
 * back-off), the scheduler (offsets, retries) and the run (a pull or a
 * render that ignores its signal) all wait this way, and every room may
 * import model/: no I/O, only timers and promises.
 */

/** Resolve after `ms`, or reject with the signal's reason as soon as it fires. */
export const abortableSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Reject as soon as the signal fires, even if the work ignores it. The work is
 * followed to its end in every case: it usually fails on the same abort a
 * moment later, and a rejection nobody follows would crash a stricter runtime.
 */
export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
