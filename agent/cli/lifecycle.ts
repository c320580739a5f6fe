import type { Logger } from 'pino';
import { errorFields } from '../log/errors.js';

/**
 * What `serve` starts, stopped through one interface: in the reverse order of
 * starting, each stop caught and logged so one failure does not skip the
 * rest, and each bounded in time so a stuck part cannot hold the box (or
 * systemd's stop) forever.
 */
export interface Part {
  name: string;
  stop(): unknown;
}

export interface Lifecycle {
  /** Record something started; returns it, so starting and registering is one line. */
  started<T>(name: string, thing: T, stop: (thing: T) => unknown): T;
  /** Stop everything started, last first. Resolves with the names of parts whose stop failed or timed out. */
  stopAll(): Promise<string[]>;
}

export function lifecycle(log: Logger, o: { stopTimeoutMs?: number } = {}): Lifecycle {
  const parts: Part[] = [];
  const timeoutMs = o.stopTimeoutMs ?? 10_000;
  return {
    started(name, thing, stop) {
      parts.push({ name, stop: () => stop(thing) });
      return thing;
    },
    async stopAll() {
      const failed: string[] = [];
      for (const p of parts.splice(0).reverse()) {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            Promise.resolve().then(() => p.stop()),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`did not stop within ${timeoutMs / 1000} s`)), timeoutMs);
              timer.unref();
            }),
          ]);
        } catch (err) {
          failed.push(p.name);
          log.error({ part: p.name, err: errorFields(err) }, 'a part of the agent did not stop cleanly; stopping the rest');
        } finally {
          clearTimeout(timer);
        }
      }
      return failed;
    },
  };
}
