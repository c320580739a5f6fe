import crypto from 'node:crypto';
import type { Db } from '../store/db.js';

/**
 * The audit chain's seal: each row's hash is also MACed (HMAC-SHA256) with a
 * key derived from the data key, which lives outside the database. Someone
 * with the database file alone can delete, edit or add rows and recompute the
 * SHA-256 chain, but cannot make seals that verify. Keys are registered per
 * open database (current first, then the previous ones a rotation keeps);
 * a row records which key sealed it.
 */
interface AuditKey {
  id: string;
  key: Buffer;
}

const keys = new WeakMap<Db, AuditKey[]>();

const derive = (dataKey: Buffer): AuditKey => {
  const key = Buffer.from(crypto.hkdfSync('sha256', dataKey, Buffer.alloc(0), 'paperback audit seal v1', 32));
  return { id: crypto.createHash('sha256').update(key).digest('hex').slice(0, 12), key };
};

/** Seal this database's new audit rows with the current data key; verify old ones with the previous keys too. */
export function registerAuditKeys(db: Db, dataKeys: Buffer[]): void {
  keys.set(db, dataKeys.map(derive));
}

export const mac = (key: Buffer, text: string): string => crypto.createHmac('sha256', key).update(text).digest('hex');

/** The current key, or null when the database was opened without one (unit tests). */
export function currentSealKey(db: Db): AuditKey | null {
  return keys.get(db)?.[0] ?? null;
}

export function sealKeyById(db: Db, id: string): Buffer | null {
  return keys.get(db)?.find((k) => k.id === id)?.key ?? null;
}

/** The text a row's seal covers: its id and its chain hash (which covers every field and the row before). */
export const sealText = (id: number, hash: string) => `audit-row|${id}|${hash}`;
