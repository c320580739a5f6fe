import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeAnchor } from '../../agent/audit/anchor.js';
import { appendAudit, verifyAuditChain } from '../../agent/audit/log.js';
import { registerAuditKeys } from '../../agent/audit/seal.js';
import { openDb } from '../../agent/store/db.js';
import { loadDataKey } from '../../agent/store/data-key.js';
import { runCli, tmpDir, writeConfigDir } from '../support/fixtures.js';

/**
 * Someone with the database file but not the key tampers with the audit log
 * the ways the attack run found `verify` blind to: removing the last rows or
 * all of them, editing a row and recomputing the SHA-256 chain, appending a
 * forged row, or swapping in an empty database. Each is done to a copy of a
 * real store, as the attacker would (triggers dropped, plain SQLite), and
 * each must be reported.
 */
let dir: string;
let dataDir: string;
let key: Buffer;
let anchorFile: string;

/** The attacker's own chain arithmetic: it is public (audit/log.ts). */
const chainHash = (r: { id: number; at: string; actor: string; action: string; subject: string | null; detail: string | null; prevHash: string }) =>
  crypto.createHash('sha256').update(JSON.stringify([r.id, r.at, r.actor, r.action, r.subject, r.detail, r.prevHash])).digest('hex');

beforeAll(() => {
  dir = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:9/fhir' });
  dataDir = path.join(dir, 'data');
  key = loadDataKey({ keyFile: path.join(dir, 'paperback.key'), configDir: dir, createKey: true, dataDir });
  const db = openDb(dataDir);
  registerAuditKeys(db, [key]);
  for (let i = 0; i < 10; i++) appendAudit(db, { actor: 'lan.nguyen', action: 'view', subject: `ward-1/mar/BV${i}` });
  anchorFile = path.join(dataDir, 'audit-anchor.json');
  expect(writeAnchor(db, anchorFile)).toMatchObject({ lastId: 10 });
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
});

/** Tamper with a copy of the store as the attacker would, then verify it as the box does. */
function tampered(edit: (raw: Database.Database) => void): string[] {
  const copy = tmpDir('pb-tamper-');
  fs.copyFileSync(path.join(dataDir, 'paperback.sqlite'), path.join(copy, 'paperback.sqlite'));
  const raw = new Database(path.join(copy, 'paperback.sqlite'));
  raw.exec('DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;');
  edit(raw);
  raw.close();
  const db = openDb(copy);
  registerAuditKeys(db, [key]);
  try {
    return verifyAuditChain(db, { anchorFile }).problems.filter((p) => p.severity === 'error').map((p) => p.what);
  } finally {
    db.close();
  }
}

type Row = { id: number; at: string; actor: string; action: string; subject: string | null; detail: string | null; prevHash: string; hash: string; mac: string | null; keyId: string | null };
const rowsOf = (raw: Database.Database) => raw.prepare('SELECT id, at, actor, action, subject, detail, prev_hash AS prevHash, hash, mac, key_id AS keyId FROM audit_log ORDER BY id').all() as Row[];

describe('the audit chain against someone with the database file', () => {
  it('passes the untouched log', () => {
    expect(tampered(() => undefined)).toEqual([]);
  });

  it('detects rows removed from the end, and all rows removed', () => {
    expect(tampered((raw) => raw.exec('DELETE FROM audit_log WHERE id > 7'))).toEqual([expect.stringMatching(/row 10, anchored at .*, is missing: rows were removed from the end or the database was replaced/)]);
    expect(tampered((raw) => raw.exec('DELETE FROM audit_log'))).toEqual([expect.stringMatching(/row 10, anchored at .*, is missing/)]);
  });

  it('detects a row edited with the SHA-256 chain recomputed after it', () => {
    const problems = tampered((raw) => {
      const rows = rowsOf(raw);
      let prev = rows[3]!.hash;
      for (const r of rows.slice(4)) {
        const actor = r.id === 5 ? 'someone.else' : r.actor;
        const hash = chainHash({ ...r, actor, prevHash: prev });
        raw.prepare('UPDATE audit_log SET actor = ?, prev_hash = ?, hash = ? WHERE id = ?').run(actor, prev, hash, r.id);
        prev = hash;
      }
    });
    expect(problems).toEqual([expect.stringMatching(/row 5's seal does not match/)]);
  });

  it('detects a forged row appended without a seal, or with a seal copied from another row', () => {
    const forge = (mac: (rows: Row[]) => string | null) => (raw: Database.Database) => {
      const rows = rowsOf(raw);
      const last = rows.at(-1)!;
      const r = { id: 11, at: new Date().toISOString(), actor: 'it.admin', action: 'downtime-ended', subject: null, detail: null, prevHash: last.hash };
      raw.prepare('INSERT INTO audit_log (id, at, actor, action, subject, detail, prev_hash, hash, mac, key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(r.id, r.at, r.actor, r.action, r.subject, r.detail, r.prevHash, chainHash(r), mac(rows), last.keyId);
    };
    expect(tampered(forge(() => null))).toEqual([expect.stringMatching(/row 11 has no seal though the rows from 1 have one/)]);
    expect(tampered(forge((rows) => rows[0]!.mac))).toEqual([expect.stringMatching(/row 11's seal does not match/)]);
  });

  it('lets the IT page check from its last good checkpoint, walking only newer rows, and still catch a rewrite', () => {
    const copy = tmpDir('pb-checkpoint-');
    fs.copyFileSync(path.join(dataDir, 'paperback.sqlite'), path.join(copy, 'paperback.sqlite'));
    const db = openDb(copy);
    registerAuditKeys(db, [key]);
    try {
      const full = verifyAuditChain(db);
      expect(full).toMatchObject({ checked: 10, problems: [], checkpoint: { id: 10 } });
      appendAudit(db, { actor: 'lan.nguyen', action: 'view', subject: 'ward-1/census' });
      const walked: number[] = [];
      const spy = db.prepare.bind(db);
      (db as unknown as { prepare: typeof db.prepare }).prepare = ((sql: string) => {
        const st = spy(sql);
        if (sql.includes('WHERE id >= ?')) return { iterate: (from: number) => (walked.push(from), st.iterate(from)) } as never;
        return st;
      }) as typeof db.prepare;
      const next = verifyAuditChain(db, { from: full.checkpoint! });
      expect(next).toMatchObject({ checked: 11, problems: [], checkpoint: { id: 11 } });
      expect(walked).toEqual([11]);
      (db as unknown as { prepare: typeof db.prepare }).prepare = spy;
      // A checkpoint row that changed means the history was rewritten: walk it all again, and say so.
      db.exec('DROP TRIGGER audit_log_no_update');
      db.prepare("UPDATE audit_log SET actor = 'x' WHERE id = 3").run();
      expect(verifyAuditChain(db, { from: { ...next.checkpoint!, hash: 'f'.repeat(64) } }).problems.map((p) => p.what)).toEqual([expect.stringMatching(/row 3 was altered/)]);
    } finally {
      db.close();
    }
  });

  it('detects a database swapped for an empty one, also through `paperback audit verify`', async () => {
    expect(tampered((raw) => raw.exec('DELETE FROM audit_log; VACUUM'))).toEqual([expect.stringMatching(/row 10, anchored at .*, is missing/)]);
    // The box's own command, on the box's own folders: the store replaced by a fresh one.
    const swapped = path.join(dataDir, 'paperback.sqlite');
    for (const f of ['', '-wal', '-shm']) fs.rmSync(`${swapped}${f}`, { force: true });
    openDb(dataDir).close();
    const r = await runCli(['--config', dir, 'audit', 'verify']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ERROR: audit log: row 10, anchored at .*, is missing/);
    expect(r.stdout).toContain('audit log has been tampered with');
  });
});
