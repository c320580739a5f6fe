import type { Db } from '../store/db.js';
import { readSetting, writeSetting } from '../store/settings.js';

/**
 * Ending a sign-in lockout from outside the running box: `paperback user
 * unlock NAME` leaves a request in the store, and the web server's next
 * sign-in attempt for that name takes it (once) and forgets the failures.
 * The lockout itself lives in serve's memory, so this is the way back for
 * an admin who mistyped five times, short of a restart.
 */
const nameOf = (username: string) => `login-unlock:${username.toLowerCase()}`;

export function requestUnlock(db: Db, username: string, now = new Date()): void {
  writeSetting(db, nameOf(username), now.toISOString(), now);
}

/** True once per request: the caller clears that user's failures. */
export function takeUnlock(db: Db, username: string): boolean {
  const v = readSetting(db, nameOf(username));
  if (!v) return false;
  db.prepare('DELETE FROM settings WHERE name = ?').run(nameOf(username));
  return true;
}
