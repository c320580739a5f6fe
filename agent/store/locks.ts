import crypto from 'node:crypto';
import os from 'node:os';
import { nowIso, type Db } from './db.js';

export interface JobLock {
  jobId: string;
  owner: string;
  renew(ttlMs: number): void;
  release(): void;
}

export interface LockHolder {
  owner: string;
  pid: number;
  host: string;
  acquiredAt: string;
  expiresAt: string;
}

/** Whether a process with this pid exists on this host (EPERM: it exists, under another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A holder is live while its lease has not expired and, on this host, its process exists. Shared with leases.ts. */
export function isLive(holder: Pick<LockHolder, 'pid' | 'host' | 'expiresAt'>, now: Date): boolean {
  if (new Date(holder.expiresAt) <= now) return false;
  if (holder.host === os.hostname()) return pidAlive(holder.pid);
  return true;
}

/**
 * Take the job's lock if nobody live holds it. Works across processes sharing
 * one data folder (`serve` and a `run` from the shell): the check-and-take runs
 * in one IMMEDIATE transaction, so two contenders cannot both win. A holder
 * killed with SIGKILL is detected by its pid and its lock taken over.
 */
export function acquireJobLock(db: Db, jobId: string, ttlMs: number, now: () => Date = () => new Date()): JobLock | { heldBy: LockHolder } {
  const owner = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
  const result = db
    .transaction((): LockHolder | null => {
      const row = db
        .prepare('SELECT owner, pid, host, acquired_at AS acquiredAt, expires_at AS expiresAt FROM job_locks WHERE job_id = ?')
        .get(jobId) as LockHolder | undefined;
      const t = now();
      if (row && isLive(row, t)) return row;
      db.prepare(
        `INSERT INTO job_locks (job_id, owner, pid, host, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(job_id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, host = excluded.host,
           acquired_at = excluded.acquired_at, expires_at = excluded.expires_at`,
      ).run(jobId, owner, process.pid, os.hostname(), nowIso(t), nowIso(new Date(t.getTime() + ttlMs)));
      return null;
    })
    .immediate();
  if (result) return { heldBy: result };
  return {
    jobId,
    owner,
    renew(ms) {
      db.prepare('UPDATE job_locks SET expires_at = ? WHERE job_id = ? AND owner = ?').run(nowIso(new Date(now().getTime() + ms)), jobId, owner);
    },
    release() {
      db.prepare('DELETE FROM job_locks WHERE job_id = ? AND owner = ?').run(jobId, owner);
    },
  };
}

export function lockHolder(db: Db, jobId: string, now: Date = new Date()): LockHolder | null {
  const row = db
    .prepare('SELECT owner, pid, host, acquired_at AS acquiredAt, expires_at AS expiresAt FROM job_locks WHERE job_id = ?')
    .get(jobId) as LockHolder | undefined;
  return row && isLive(row, now) ? row : null;
}
