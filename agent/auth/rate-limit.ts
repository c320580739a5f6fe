/**
 * Failed logins per user name and per address. After `maxFailures` within
 * the window, that key is locked until the window since its first failure
 * has passed. Kept in memory: a restart forgives, which is acceptable on a
 * box whose restarts are logged; the audit log keeps every failure anyway.
 */
export interface LoginLimiter {
  /** Null when allowed, else the seconds until the next try. */
  blocked(keys: string[], now?: number): number | null;
  fail(keys: string[], now?: number): void;
  succeed(keys: string[]): void;
}

export function loginLimiter(opts: { maxFailures: number; lockoutMinutes: number }): LoginLimiter {
  const windowMs = opts.lockoutMinutes * 60_000;
  const failures = new Map<string, { first: number; count: number }>();
  const current = (key: string, now: number) => {
    const f = failures.get(key);
    if (f && now - f.first > windowMs) {
      failures.delete(key);
      return undefined;
    }
    return f;
  };
  return {
    blocked(keys, now = Date.now()) {
      let wait = 0;
      for (const k of keys) {
        const f = current(k, now);
        if (f && f.count >= opts.maxFailures) wait = Math.max(wait, Math.ceil((f.first + windowMs - now) / 1000));
      }
      return wait > 0 ? wait : null;
    },
    fail(keys, now = Date.now()) {
      for (const k of keys) {
        const f = current(k, now);
        if (f) f.count++;
        else failures.set(k, { first: now, count: 1 });
      }
      // Bound memory against a spray of random user names.
      if (failures.size > 10_000) for (const [k, f] of failures) if (now - f.first > windowMs) failures.delete(k);
    },
    succeed(keys) {
      for (const k of keys) failures.delete(k);
    },
  };
}
