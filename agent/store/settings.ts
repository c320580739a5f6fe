import type { Db } from './db.js';
import { nowIso } from './db.js';

/** Box settings kept in the store rather than in config files (the break-glass code's hash, the demo outage switch). */
export function writeSetting(db: Db, name: string, value: string, now = new Date()): void {
  db.prepare('INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at').run(name, value, nowIso(now));
}

export function readSetting(db: Db, name: string): string | null {
  return (db.prepare('SELECT value FROM settings WHERE name = ?').pluck().get(name) as string | undefined) ?? null;
}
