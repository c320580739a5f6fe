import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeAnchor } from '../../agent/audit/anchor.js';
import { archiveAudit, auditRowsWithArchives } from '../../agent/audit/archive.js';
import { appendAudit, verifyAuditChain } from '../../agent/audit/log.js';
import { registerAuditKeys } from '../../agent/audit/seal.js';
import { loadDataKey } from '../../agent/store/data-key.js';
import { openDb } from '../../agent/store/db.js';
import { tmpDir } from '../support/fixtures.js';

/**
 * The audit log is archived, never deleted: old rows move to a file, the
 * chain carries on from it, and verify walks files and table as one chain.
 * Checked on a real store and real files, including someone changing or
 * removing an archive.
 */
function store() {
  const dir = tmpDir('pb-archive-');
  const key = loadDataKey({ keyFile: path.join(dir, 'k.key'), configDir: dir, createKey: true, dataDir: path.join(dir, 'data') });
  const db = openDb(path.join(dir, 'data'));
  registerAuditKeys(db, [key]);
  for (let i = 0; i < 10; i++) appendAudit(db, { actor: 'lan.nguyen', action: 'view', subject: `ward-1/mar/OLD${i}` }, new Date(Date.UTC(2026, 8, 1 + i)));
  for (let i = 0; i < 10; i++) appendAudit(db, { actor: 'lan.nguyen', action: 'view', subject: `ward-1/mar/NEW${i}` }, new Date(Date.UTC(2026, 11, 1, i)));
  return { dir, db, archiveDir: path.join(dir, 'data', 'audit-archive'), anchorFile: path.join(dir, 'data', 'audit-anchor.json') };
}

describe('archiving the audit log', () => {
  it('moves old rows to a file, keeps one chain across file and table, and exports the whole history', () => {
    const { db, archiveDir, anchorFile } = store();
    writeAnchor(db, anchorFile);
    const a = archiveAudit(db, archiveDir, new Date('2026-11-01T00:00:00Z'))!;
    expect(a).toMatchObject({ firstId: 1, lastId: 10, file: 'audit-000000001-000000010.jsonl' });
    expect(db.prepare('SELECT MIN(id), COUNT(*) FROM audit_log').raw().get()).toEqual([11, 10]);
    expect(fs.readFileSync(path.join(archiveDir, a.file), 'utf8').trim().split('\n')).toHaveLength(10);
    // Nothing older is left to archive; the table still refuses deletes.
    expect(archiveAudit(db, archiveDir, new Date('2026-11-01T00:00:00Z'))).toBeNull();
    expect(() => db.prepare('DELETE FROM audit_log WHERE id = 11').run()).toThrow(/append-only/);
    appendAudit(db, { actor: 'it.admin', action: 'audit-export', subject: null });
    expect(verifyAuditChain(db, { anchorFile, archiveDir })).toMatchObject({ checked: 21, problems: [] });
    expect(verifyAuditChain(db, { anchorFile })).toMatchObject({ checked: 21, problems: [] });
    const rows = auditRowsWithArchives(db, archiveDir, { since: '2026-01-01' });
    expect(rows.map((r) => r.id)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
  });

  it('reports an archive changed or removed, and an archive record removed from the database', () => {
    const changed = store();
    const a = archiveAudit(changed.db, changed.archiveDir, new Date('2026-11-01T00:00:00Z'))!;
    const f = path.join(changed.archiveDir, a.file);
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('OLD3', 'OLD9'));
    expect(verifyAuditChain(changed.db, { archiveDir: changed.archiveDir }).problems.map((p) => p.what)).toEqual([expect.stringMatching(/archive of rows 1–10 .* was changed after it was written/)]);
    fs.rmSync(f);
    expect(verifyAuditChain(changed.db, { archiveDir: changed.archiveDir }).problems[0]!.what).toMatch(/archive of rows 1–10 .* is missing/);
    // Someone with the database drops the record of the archive: the table no longer starts at row 1.
    const dropped = store();
    archiveAudit(dropped.db, dropped.archiveDir, new Date('2026-11-01T00:00:00Z'));
    dropped.db.prepare('DELETE FROM audit_archives').run();
    expect(verifyAuditChain(dropped.db, { archiveDir: dropped.archiveDir }).problems[0]!.what).toMatch(/row 1–10 is missing \(rows were removed\)/);
  });

  it('still checks the anchor when the row it names has been archived', () => {
    const { db, archiveDir, anchorFile } = store();
    writeAnchor(db, anchorFile);
    expect(archiveAudit(db, archiveDir, new Date('2027-01-01T00:00:00Z'))).toMatchObject({ firstId: 1, lastId: 20 });
    expect(verifyAuditChain(db, { anchorFile, archiveDir }).problems).toEqual([]);
  });
});
