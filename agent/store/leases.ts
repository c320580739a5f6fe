import crypto from 'node:crypto';
import os from 'node:os';
import { nowIso, type Db } from './db.js';
import { isLive as holderLive } from './locks.js';

/**
 * A lease: one process at a time owns a piece of work (the print queue), so
 * `serve` and a `paperback print` beside it never both send a job. The owner
 * renews it on every heartbeat; a process killed without releasing it loses
 * it when it expires, and the next process to ask takes it. Each transition
 * (acquire or renew, release) is one immediate transaction with its
 * from-state: free, expired, or held by the caller.
 */
export interface Lease {
  name: string;
  holder: string;
  acquiredAt: string;
  expiresAt: string;
}

/** A name for this process that no other process on the box shares. */
export const processHolder = (): string => `${process.pid}@${os.hostname()}/${crypto.randomBytes(4).toString('hex')}`;

export function currentLease(db: Db, name: string): Lease | null {
  return (db.prepare('SELECT name, holder, acquired_at AS acquiredAt, expires_at AS expiresAt FROM leases WHERE name = ?').get(name) as Lease | undefined) ?? null;
}

/**
 * Live: not expired, and, when the holder ran on this host, its process still
 * exists. A SIGKILLed owner's work is taken over at once, not after the TTL.
 */
function isLive(l: Lease, now: Date): boolean {
  const m = /^(\d+)@([^/]+)\//.exec(l.holder);
  // A holder name that does not parse is trusted until it expires, as one from another host is.
  return holderLive({ pid: m ? Number(m[1]) : -1, host: m ? m[2]! : '', expiresAt: l.expiresAt }, now);
}

/** Take the lease if it is free, expired, its holder is dead, or it is already ours (then renew it). True when the caller owns it afterwards. */
export function acquireLease(db: Db, name: string, holder: string, ttlMs: number, now = new Date()): boolean {
  return db.transaction(() => {
    const cur = currentLease(db, name);
    const expires = nowIso(new Date(now.getTime() + ttlMs));
    if (cur && cur.holder !== holder && isLive(cur, now)) return false;
    if (cur?.holder === holder) db.prepare('UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?').run(expires, name, holder);
    else db.prepare('INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at').run(name, holder, nowIso(now), expires);
    return true;
  }).immediate();
}

/** Give the lease up (a clean stop), so the next process need not wait for it to expire. Only the holder can. */
export function releaseLease(db: Db, name: string, holder: string): void {
  db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?').run(name, holder);
}

/** Someone else holds it and is alive: their work is in progress. */
export const heldByOther = (db: Db, name: string, holder: string, now = new Date()): boolean => {
  const cur = currentLease(db, name);
  return !!cur && cur.holder !== holder && isLive(cur, now);
};
