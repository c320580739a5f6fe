import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import { PaperbackError } from '../log/errors.js';

export type Db = Database.Database;

export class StoreError extends PaperbackError {
  constructor(message: string, readonly context: Record<string, unknown> = {}, code = 'store') {
    super(code, message);
  }
}

/**
 * Open (creating if needed) the store's SQLite database under dataDir and
 * bring its schema up to date. WAL lets `serve` read while `run` writes.
 */
export function openDb(dataDir: string, opts: { migrations?: typeof MIGRATIONS } = {}): Db {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'paperback.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // FULL: a committed publish survives power loss, not only a process crash.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 10000');
  // Deleted rows (expired snapshots, sessions) are overwritten, not left in free pages.
  db.pragma('secure_delete = ON');
  migrate(db, opts.migrations ?? MIGRATIONS);
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function migrate(db: Db, migrations: typeof MIGRATIONS): void {
  const current = schemaVersion(db);
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new StoreError(
      `the database is at schema version ${current}, newer than this Paperback knows (${latest}); upgrade Paperback or restore a backup`,
      { current, latest },
    );
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    // IMMEDIATE: two processes starting at once must not both migrate.
    db.transaction(() => {
      if (schemaVersion(db) >= m.version) return;
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}

export const nowIso = (d: Date = new Date()): string => d.toISOString();
