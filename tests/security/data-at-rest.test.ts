import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, verifyAuditChain } from '../../agent/audit/log.js';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import type { SyntheticHospital } from '../../agent/demo/generator.js';
import { runJob } from '../../agent/schedule/run.js';
import { BlobIntegrityError, openBlobStore } from '../../agent/store/blobs.js';
import { loadDataKey } from '../../agent/store/data-key.js';
import { currentSnapshot, getArtifact } from '../../agent/store/snapshots.js';
import { jobYaml, openTestAgent, runCli, startHis, tmpDir, writeConfigDir } from '../support/fixtures.js';

let his: FhirTestServer;
let hospital: SyntheticHospital;
beforeAll(async () => {
  ({ server: his, hospital } = await startHis({ patients: 6, now: new Date() }));
});
afterAll(async () => {
  await his.close();
});

/** Real grep over every file of the data folder: SQLite, its WAL, blobs. Exit 1 means not found. */
const grepData = (dir: string, text: string) => spawnSync('grep', ['-r', '-l', '-F', '-a', text, dir], { encoding: 'utf8' });

describe('patient data at rest', () => {
  it('a grep of the data folder for a patient finds nothing, yet every document opens', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': jobYaml('ward-1').replace('documents: [census, mar]', 'documents: [census, mar, summary, allergies]') } });
    const a = openTestAgent(dir);
    expect((await runJob(a, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
    a.db.pragma('wal_checkpoint(TRUNCATE)');
    const p = hospital.wards[0]!.patients.find((x) => x.name)!;
    const withAllergy = hospital.wards[0]!.patients.find((x) => x.allergies.status === 'recorded');
    const needles = [p.name!, p.name!.split(' ').slice(-2).join(' ')];
    if (withAllergy) needles.push(withAllergy.allergies.items[0]!.substance!);
    for (const needle of needles) {
      const r = grepData(a.config.dataDir, needle);
      expect(r.status, `"${needle}" found in ${r.stdout}`).toBe(1);
    }
    // Every stored file is sealed, and opens with the key.
    const files = a.blobs.list();
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) expect(fs.readFileSync(a.blobs.pathOf(f)).subarray(0, 4).toString()).toBe('PBX1');
    const cur = currentSnapshot(a.db, 'ward-1')!;
    const mar = a.blobs.get(getArtifact(a.db, cur.id, `mar/${p.mrn}`)!.sha256);
    expect(mar.subarray(0, 5).toString()).toBe('%PDF-');
    const ward = JSON.parse(a.blobs.get(getArtifact(a.db, cur.id, 'data/ward')!.sha256).toString('utf8')) as { patients: { name: string }[] };
    expect(ward.patients.map((x) => x.name)).toContain(p.name);
    a.db.close();
  });

  it('a copy of the data without the key, or with another key, opens nothing', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url });
    const a = openTestAgent(dir);
    await runJob(a, 'ward-1', { trigger: 'manual' });
    const census = getArtifact(a.db, currentSnapshot(a.db, 'ward-1')!.id, 'census')!;
    expect(() => openBlobStore(a.config.dataDir, null).get(census.sha256)).toThrow(/no data key/);
    expect(() => openBlobStore(a.config.dataDir, crypto.randomBytes(32)).get(census.sha256)).toThrow(BlobIntegrityError);
    // A sealed file copied under another blob's name does not open either: the name is bound in.
    const other = getArtifact(a.db, currentSnapshot(a.db, 'ward-1')!.id, 'data/ward')!;
    fs.copyFileSync(a.blobs.pathOf(census.sha256), a.blobs.pathOf(other.sha256));
    expect(() => a.blobs.get(other.sha256)).toThrow(/wrong data key or damaged/);
    a.db.close();
    // `paperback verify` with another key says so and fails.
    fs.writeFileSync(path.join(dir, 'paperback.key'), `${crypto.randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    const v = await runCli(['--config', dir, 'verify']);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/cannot be decrypted with this data key/);
  });

  it('refuses a key kept in the data folder, readable by others, or missing', () => {
    const root = tmpDir();
    const dataDir = path.join(root, 'data');
    expect(() => loadDataKey({ keyFile: path.join(dataDir, 'k'), configDir: root, createKey: true, dataDir })).toThrow(/inside the data directory/);
    const loose = path.join(root, 'loose.key');
    fs.writeFileSync(loose, `${'ab'.repeat(32)}\n`, { mode: 0o644 });
    fs.chmodSync(loose, 0o644);
    expect(() => loadDataKey({ keyFile: loose, configDir: root, createKey: false, dataDir })).toThrow(/chmod 600/);
    expect(() => loadDataKey({ keyFile: path.join(root, 'none.key'), configDir: root, createKey: false, dataDir })).toThrow(/openssl rand -hex 32/);
    // Nothing configured and no credential: CONFIG/data.key, which must exist.
    expect(() => loadDataKey({ keyFile: null, configDir: root, createKey: false, dataDir }, {})).toThrow(new RegExp(`${root}/data.key does not exist`));
    fs.writeFileSync(path.join(root, 'data.key'), `${'ef'.repeat(32)}\n`, { mode: 0o640 });
    expect(loadDataKey({ keyFile: null, configDir: root, createKey: false, dataDir }, {}).toString('hex')).toBe('ef'.repeat(32));
    // The systemd credential is used when no file is configured.
    const creds = path.join(root, 'creds');
    fs.mkdirSync(creds);
    fs.writeFileSync(path.join(creds, 'data-key'), `${'cd'.repeat(32)}\n`, { mode: 0o400 });
    expect(loadDataKey({ keyFile: null, configDir: root, createKey: false, dataDir }, { CREDENTIALS_DIRECTORY: creds }).toString('hex')).toBe('cd'.repeat(32));
    // A created key is private.
    const made = path.join(root, 'etc', 'paperback.key');
    expect(loadDataKey({ keyFile: made, configDir: root, createKey: true, dataDir })).toHaveLength(32);
    expect(fs.statSync(made).mode & 0o777).toBe(0o600);
  });

  it('rotates the data key without a moment where documents cannot be opened', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url });
    const a = openTestAgent(dir);
    await runJob(a, 'ward-1', { trigger: 'manual' });
    const census = getArtifact(a.db, currentSnapshot(a.db, 'ward-1')!.id, 'census')!;
    const before = a.blobs.get(census.sha256);
    const oldKey = fs.readFileSync(path.join(dir, 'paperback.key'), 'utf8').trim();
    a.db.close();
    // Step 1: the new key becomes the key, the old one a previous key.
    fs.writeFileSync(path.join(dir, 'new.key'), `${crypto.randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    const yaml = path.join(dir, 'paperback.yaml');
    fs.writeFileSync(yaml, fs.readFileSync(yaml, 'utf8').replace('encryption: { keyFile: paperback.key, createKey: true }', 'encryption: { keyFile: new.key, previousKeyFiles: [paperback.key] }'));
    const mid = openTestAgent(dir);
    expect(openBlobStore(mid.config.dataDir, loadDataKey({ keyFile: path.join(dir, 'new.key'), configDir: dir, createKey: false, dataDir: mid.config.dataDir }), [Buffer.from(oldKey, 'hex')]).get(census.sha256)).toEqual(before);
    mid.db.close();
    // Step 2: re-seal everything; step 3: forget the old key.
    const r = await runCli(['--config', dir, 'key', 'rotate']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/re-sealed [1-9]\d* file\(s\) under the current key; 0 already were/);
    expect((await runCli(['--config', dir, 'key', 'rotate'])).stdout).toMatch(/re-sealed 0 file/);
    fs.writeFileSync(yaml, fs.readFileSync(yaml, 'utf8').replace('previousKeyFiles: [paperback.key]', 'previousKeyFiles: []'));
    const after = openTestAgent(dir);
    expect(openBlobStore(after.config.dataDir, loadDataKey({ keyFile: path.join(dir, 'new.key'), configDir: dir, createKey: false, dataDir: after.config.dataDir })).get(census.sha256)).toEqual(before);
    expect(() => openBlobStore(after.config.dataDir, Buffer.from(oldKey, 'hex')).get(census.sha256)).toThrow(BlobIntegrityError);
    expect((await runCli(['--config', dir, 'verify'])).code).toBe(0);
    after.db.close();
  });

  it('retention removes a discharged patient for good: no file and no row still holds them', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': jobYaml('ward-1').replace('keepLast: 3', 'keepLast: 1') } });
    const a = openTestAgent(dir);
    expect((await runJob(a, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
    const ward = hospital.wards[0]!;
    const gone = ward.patients[1]!;
    const old = getArtifact(a.db, currentSnapshot(a.db, 'ward-1')!.id, `mar/${gone.mrn}`)!;
    const enc = await his.repo.readResource('Encounter', ward.encounterIds.get(gone.id)!);
    await his.repo.updateResource({ ...enc, status: 'finished' });
    try {
      expect((await runJob(a, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
      expect(a.blobs.has(old.sha256)).toBe(false);
      expect(a.db.prepare('SELECT COUNT(*) FROM artifacts WHERE address LIKE ?').pluck().get(`%${gone.mrn}%`)).toBe(0);
      a.db.close();
      const r = grepData(a.config.dataDir, gone.mrn!);
      expect(r.status, `MRN still in ${r.stdout}`).toBe(1);
    } finally {
      await his.repo.updateResource({ ...enc, status: 'in-progress' });
    }
  });
});

describe('the audit log', () => {
  it('cannot be edited through the database, and any tampering is found and located', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url });
    const a = openTestAgent(dir);
    for (let i = 1; i <= 5; i++) appendAudit(a.db, { actor: `nurse${i}`, action: 'view', subject: `ward-1/patient/MRN${i}` });
    expect(verifyAuditChain(a.db)).toMatchObject({ checked: 5, problems: [] });
    expect(() => a.db.prepare("UPDATE audit_log SET actor = 'someone' WHERE id = 2").run()).toThrow(/append-only/);
    expect(() => a.db.prepare('DELETE FROM audit_log WHERE id = 2').run()).toThrow(/append-only/);
    expect((await runCli(['--config', dir, 'verify'])).stdout).toMatch(/5 audit rows[\s\S]*store OK/);

    // Someone with the file drops the guard and rewrites who viewed a record.
    a.db.exec('DROP TRIGGER audit_log_no_update');
    a.db.prepare("UPDATE audit_log SET actor = 'nobody' WHERE id = 3").run();
    let r = verifyAuditChain(a.db);
    expect(r.problems.map((p) => p.what)).toEqual(['audit log: row 3 was altered after it was written']);
    const cli = await runCli(['--config', dir, 'verify']);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain('ERROR: audit log: row 3 was altered after it was written');
    a.db.prepare("UPDATE audit_log SET actor = 'nurse3' WHERE id = 3").run();
    expect(verifyAuditChain(a.db).problems).toEqual([]);

    // … or removes a row.
    a.db.exec('DROP TRIGGER audit_log_no_delete');
    a.db.prepare('DELETE FROM audit_log WHERE id = 4').run();
    r = verifyAuditChain(a.db);
    expect(r.problems.map((p) => p.what)).toEqual(['audit log: row 4 is missing (rows were removed)']);
    a.db.close();
  });

  it('exports as CSV a spreadsheet opens safely, and records the export', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url });
    const a = openTestAgent(dir);
    appendAudit(a.db, { actor: 'break-glass:Trần, "Mai"', action: 'break-glass', subject: null });
    appendAudit(a.db, { actor: '=HYPERLINK("http://x")', action: 'login-failed', subject: null });
    a.db.close();
    const out = path.join(tmpDir(), 'audit.csv');
    const r = await runCli(['--config', dir, 'audit', 'export', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const csv = fs.readFileSync(out, 'utf8');
    expect(csv.startsWith('\uFEFFid,time_utc,actor,action,subject,detail,hash\r\n')).toBe(true);
    const lines = csv.slice(1).trimEnd().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^1,[^,]+,"break-glass:Trần, ""Mai""",break-glass,,,[0-9a-f]{64}$/);
    expect(lines[2]).toMatch(/^2,[^,]+,"'=HYPERLINK\(""http:\/\/x""\)",login-failed,/);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    const again = openTestAgent(dir);
    expect(again.db.prepare("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1").pluck().get()).toBe('audit-export');
    again.db.close();
    expect((await runCli(['--config', dir, 'audit', 'verify'])).stdout).toContain('audit log OK: 3 rows, chain unbroken');
  });
});
