import { isDiskFull } from '../store/disk-space.js';
import crypto from 'node:crypto';
import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import type { Role } from './users.js';

export type AuthMethod = 'local' | 'ldap' | 'break-glass';

export interface Session {
  actor: string;
  role: Role;
  auth: AuthMethod;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
}

export interface SessionPolicy {
  idleMinutes: number;
  maxHours: number;
}

const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** A new session; the token goes into the cookie and only its hash into the database. */
export function createSession(db: Db, s: { actor: string; role: Role; auth: AuthMethod }, policy: SessionPolicy, now = new Date()): string {
  const token = crypto.randomBytes(32).toString('base64url');
  const maxHours = s.auth === 'break-glass' ? Math.min(policy.maxHours, 4) : policy.maxHours;
  db.prepare('INSERT INTO sessions (token_hash, actor, role, auth, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
    hashToken(token),
    s.actor,
    s.role,
    s.auth,
    nowIso(now),
    nowIso(now),
    nowIso(new Date(now.getTime() + maxHours * 3600_000)),
  );
  return token;
}

export type SessionLookup = { ok: true; session: Session } | { ok: false; reason: 'none' | 'unknown' | 'idle' | 'expired'; actor?: string };

/** Find the session of a cookie, ending it when idle or past its end; touching it otherwise. */
export function lookupSession(db: Db, token: string | undefined, policy: SessionPolicy, now = new Date()): SessionLookup {
  if (!token) return { ok: false, reason: 'none' };
  if (!TOKEN.test(token)) return { ok: false, reason: 'unknown' };
  const h = hashToken(token);
  const row = db.prepare('SELECT actor, role, auth, created_at AS createdAt, last_seen_at AS lastSeenAt, expires_at AS expiresAt FROM sessions WHERE token_hash = ?').get(h) as Session | undefined;
  if (!row) return { ok: false, reason: 'unknown' };
  const idleFor = now.getTime() - Date.parse(row.lastSeenAt);
  const reason = now.getTime() >= Date.parse(row.expiresAt) ? 'expired' : idleFor > policy.idleMinutes * 60_000 ? 'idle' : null;
  if (reason) {
    db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(h);
    return { ok: false, reason, actor: row.actor };
  }
  // Writing on every request would make each page view a disk write: the last-seen time is moved once a
  // minute, or every quarter of the idle limit when that is shorter (with a 1-minute limit, once a minute
  // would sign out a nurse active every 30 s).
  if (idleFor > Math.min(60_000, (policy.idleMinutes * 60_000) / 4)) {
    try {
      db.prepare('UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?').run(nowIso(now), h);
    } catch (err) {
      // A full disk must not sign a reading nurse out: the session stays valid, its idle clock just is not moved.
      if (!isDiskFull(err)) throw err;
    }
  }
  return { ok: true, session: row };
}

export function endSession(db: Db, token: string | undefined): void {
  if (token && TOKEN.test(token)) db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(hashToken(token));
}

export function purgeExpiredSessions(db: Db, policy: SessionPolicy, now = new Date()): number {
  const idleCutoff = nowIso(new Date(now.getTime() - policy.idleMinutes * 60_000));
  return db.prepare('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?').run(nowIso(now), idleCutoff).changes;
}
