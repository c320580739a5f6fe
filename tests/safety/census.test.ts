import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../agent/audit/log.js';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import type { SyntheticHospital } from '../../agent/demo/generator.js';
import { computeReadiness } from '../../agent/outage/readiness.js';
import { printerStatusCache } from '../../agent/print/status-cache.js';
import { runJob } from '../../agent/schedule/run.js';
import { currentSnapshot, getArtifact, heldSnapshot, lastRun } from '../../agent/store/snapshots.js';
import { metricsRegistry } from '../../agent/web/metrics.js';
import { buildWebServer } from '../../agent/web/server.js';
import fs from 'node:fs';
import path from 'node:path';
import { createDropFolderSource } from '../../agent/sources/dropfolder/index.js';
import { jobYaml, openTestAgent, runCli, startHis, tmpDir, waitFor, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { pdfText } from '../support/pdf-text.js';
import { ADMIN, NURSE, addTestUsers, signIn } from '../support/web.js';

/**
 * The census on paper against a real FHIR server (Medplum): a census that
 * collapses is held, not published; every patient the source places on the
 * ward is printed, two in one bed and none in a bed included.
 */
const NOW = new Date('2026-11-22T03:00:00Z');

type Encounter = { resourceType: 'Encounter'; id: string; status: string; location?: { location: { reference: string }; status?: string }[] };

async function encounter(server: FhirTestServer, id: string): Promise<Encounter> {
  return (await server.repo.readResource('Encounter', id)) as unknown as Encounter;
}
async function save(server: FhirTestServer, e: Encounter): Promise<void> {
  await server.repo.updateResource(e as never);
}

function censusText(a: TestAgent, jobId: string): string {
  const cur = currentSnapshot(a.db, jobId)!;
  return pdfText(a.blobs.get(getArtifact(a.db, cur.id, 'census')!.sha256)).text;
}

describe('a census that collapses is held, not published', () => {
  let his: { server: FhirTestServer; hospital: SyntheticHospital };
  let a: TestAgent;
  let dir: string;
  beforeAll(async () => {
    his = await startHis({ patients: 12, now: NOW });
    dir = writeConfigDir(tmpDir(), { baseUrl: his.server.url, jobs: { 'ward-1': jobYaml('ward-1', 'censusDropGuard: { maxDropPercent: 50 }\n') } });
    a = openTestAgent(dir);
  }, 60_000);
  afterAll(async () => {
    a?.db.close();
    await his?.server.close();
  });

  it('keeps the last good census current, says so everywhere, and publishes the new one only when an admin accepts it', async () => {
    const first = await runJob({ ...a, now: () => NOW }, 'ward-1', { trigger: 'manual' });
    expect(first.status, first.error ?? '').toBe('succeeded');
    const good = currentSnapshot(a.db, 'ward-1')!;
    const ward = his.hospital.wards[0]!;
    const names = ward.patients.map((p) => p.name!);
    // The HIS now places only 4 of the 12 (a broken interface, a wrong location mapping).
    for (const p of ward.patients.slice(4)) await save(his.server, { ...(await encounter(his.server, ward.encounterIds.get(p.id)!)), status: 'finished' });
    const second = await runJob({ ...a, now: () => NOW }, 'ward-1', { trigger: 'manual' });
    expect(second.status).toBe('held');
    expect(second.error).toMatch(/fell from 12 to 4 patients/);
    expect(lastRun(a.db, 'ward-1')!.status).toBe('held');
    expect(currentSnapshot(a.db, 'ward-1')!.id).toBe(good.id);
    expect(heldSnapshot(a.db, 'ward-1')!.counts.patients).toBe(4);

    // The printed census is still the whole ward, every patient's MAR with it.
    const census = censusText(a, 'ward-1');
    for (const n of names) expect(census).toContain(n);
    for (const p of ward.patients) expect(getArtifact(a.db, good.id, `mar/${p.mrn}`), p.mrn!).not.toBeNull();

    // Readiness, metrics, status --json and the ward and IT pages say so.
    const readiness = computeReadiness({ config: a.config, db: a.db, printers: printerStatusCache(), clockSkewSeconds: 0, now: NOW });
    expect(readiness.ready).toBe(false);
    expect(readiness.checks.find((c) => c.name === 'census:ward-1')).toMatchObject({ ok: false, detail: expect.stringMatching(/newest census held/) });
    const metrics = await metricsRegistry({ config: () => a.config, db: a.db }).metrics();
    expect(metrics).toMatch(/paperback_census_held\{job="ward-1"\} 1/);
    const text = await runCli(['--config', dir, 'status']);
    expect(text.stdout).toMatch(/HELD: +snapshot \d+ \(4 patients, data as of \d{2}\/\d{2}\/\d{4} \d{2}:\d{2} \(GMT\+7\)\) was not published: the census fell from 12 to 4 patients/);
    const status = await runCli(['--config', dir, 'status', '--json']);
    expect(JSON.parse(status.stdout).jobs?.[0]?.held ?? JSON.parse(status.stdout)[0]?.held).toMatchObject({ patients: 4, reason: expect.stringMatching(/fell from 12 to 4/) });

    await addTestUsers(a.db);
    const app = await buildWebServer({ config: () => a.config, db: a.db, blobs: a.blobs, log: a.log });
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      const nurse = await signIn(base, NURSE);
      const page = await (await nurse.fetch('/ward/ward-1?lang=en')).text();
      expect(page).toContain('The newest census from the HIS was HELD');
      expect(page).toContain('it lists 4 patients where the last good one had 12');
      const admin = await signIn(base, ADMIN);
      const it = await (await admin.fetch('/admin?lang=en')).text();
      expect(it).toContain('Accept the held census');
      // A nurse cannot accept it; an admin can, and it is audited.
      expect((await nurse.form('/admin/jobs/ward-1/accept-census', { snapshot: String(second.snapshotId) })).status).toBe(403);
      expect((await admin.form('/admin/jobs/ward-1/accept-census', { snapshot: String(second.snapshotId) })).status).toBe(303);
    } finally {
      await app.close();
    }
    expect(currentSnapshot(a.db, 'ward-1')!.id).toBe(second.snapshotId);
    expect(heldSnapshot(a.db, 'ward-1')).toBeNull();
    expect(listAudit(a.db).some((r) => r.action === 'census-accepted' && r.actor === ADMIN.username && r.subject === 'ward-1')).toBe(true);
    const accepted = censusText(a, 'ward-1');
    for (const n of names.slice(0, 4)) expect(accepted).toContain(n);
    for (const n of names.slice(4)) expect(accepted).not.toContain(n);
  }, 120_000);

  it('always holds a drop to no patients, and the CLI accepts it, audited', async () => {
    const ward = his.hospital.wards[0]!;
    for (const p of ward.patients.slice(0, 4)) await save(his.server, { ...(await encounter(his.server, ward.encounterIds.get(p.id)!)), status: 'finished' });
    const empty = await runJob({ ...a, now: () => NOW }, 'ward-1', { trigger: 'manual' });
    expect(empty.status).toBe('held');
    expect(empty.error).toMatch(/no patients where the last good census had 4/);
    const cli = await runCli(['--config', dir, 'census', 'status', 'ward-1']);
    expect(cli.stdout).toMatch(/census HELD/);
    const accept = await runCli(['--config', dir, 'census', 'accept', 'ward-1', '--snapshot', String(empty.snapshotId), '--by', 'it.on.call']);
    expect(accept.code, accept.stderr).toBe(0);
    const b = openTestAgent(dir);
    try {
      expect(currentSnapshot(b.db, 'ward-1')!.counts.patients).toBe(0);
      expect(listAudit(b.db).some((r) => r.action === 'census-accepted' && r.actor === 'it.on.call')).toBe(true);
      // Nothing left to accept.
      expect((await runCli(['--config', dir, 'census', 'accept', 'ward-1'])).code).toBe(1);
    } finally {
      b.db.close();
    }
  }, 120_000);
});

describe('every patient a drop-folder export places on the ward is on the printed census', () => {
  it('prints both rows an export gives one bed, the bed marked', async () => {
    const folder = tmpDir('pb-drop-');
    const dir = writeConfigDir(tmpDir(), {
      baseUrl: 'http://127.0.0.1:9/fhir',
      wards: ['ward-12'],
      jobs: { 'ward-12': jobYaml('ward-12').replace('source: his', 'source: export').replace('Location/ward-12', 'ward-12') + 'datasets: [census]\n' },
      extraSource: `  - id: export\n    kind: dropfolder\n    folder: ${folder}\n`,
    });
    const a = openTestAgent(dir);
    const src = createDropFolderSource({ id: 'export', name: 'HIS export', folder }, { configDir: dir, log: a.log });
    a.sources.set('export', src);
    try {
      await src.ready;
      fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.census.csv'), 'bed,mrn,name,family_name,given_name\n12A,BV001,Nguyễn Thị Hồng,,\n12A,BV002,,Trần,Văn Nam\n12B,,,,\n');
      await waitFor(() => fs.readdirSync(src.folder.inbox).length === 0, 8000);
      const o = await runJob({ ...a, now: () => NOW }, 'ward-12', { trigger: 'manual' });
      expect(o.status, o.error ?? '').toBe('succeeded');
      const census = censusText(a, 'ward-12');
      expect(census).toContain('Nguyễn Thị Hồng');
      expect(census).toContain('Trần Văn Nam');
      expect(census).toContain('2 patients in 2 beds');
      expect(census).toContain('Beds the source gives to more than one patient: 12A');
    } finally {
      await src.close!();
      a.db.close();
    }
  }, 60_000);
});

describe('every patient the source places on the ward is on the printed census', () => {
  let his: { server: FhirTestServer; hospital: SyntheticHospital };
  let a: TestAgent;
  beforeAll(async () => {
    his = await startHis({ patients: 6, now: NOW, seed: 21 });
    a = openTestAgent(writeConfigDir(tmpDir(), { baseUrl: his.server.url, jobs: { 'ward-1': jobYaml('ward-1').replace('documents: [census, mar]', 'documents: [census, allergies, mar]') } }));
  }, 60_000);
  afterAll(async () => {
    a?.db.close();
    await his?.server.close();
  });

  it('prints two patients in one bed, both, with the bed marked, and a patient with no bed under "no bed assigned"', async () => {
    const ward = his.hospital.wards[0]!;
    const [p1, p2, p3] = ward.patients;
    const bedOf1 = (await encounter(his.server, ward.encounterIds.get(p1!.id)!)).location!;
    await save(his.server, { ...(await encounter(his.server, ward.encounterIds.get(p2!.id)!)), location: bedOf1 });
    await save(his.server, { ...(await encounter(his.server, ward.encounterIds.get(p3!.id)!)), location: [{ location: { reference: `Location/${ward.id}` }, status: 'active' }] });
    const o = await runJob({ ...a, now: () => NOW }, 'ward-1', { trigger: 'manual' });
    expect(o.status, o.error ?? '').toBe('succeeded');
    const bedLabel = ward.beds.find((b) => b.id === p1!.bedId)!.label;
    const census = censusText(a, 'ward-1');
    for (const p of ward.patients) expect(census, p.name!).toContain(p.name!);
    expect(census).toContain(`${ward.patients.length} patients in ${ward.beds.length} beds`);
    expect(census).toContain(`Beds the source gives to more than one patient: ${bedLabel}`);
    expect(census.split('2+ patients in this bed').length - 1, census).toBe(2);
    expect(census).toMatch(new RegExp(`Patients on this ward with no bed assigned \\(1\\)[^]*— ${p3!.name} ⚠ no bed assigned`));
    // The ward allergy list marks the shared bed too; every MAR is there.
    const cur = currentSnapshot(a.db, 'ward-1')!;
    const allergies = pdfText(a.blobs.get(getArtifact(a.db, cur.id, 'allergies')!.sha256)).text;
    if (p1!.allergies.status !== 'none-known') expect(allergies).toMatch(new RegExp(`${bedLabel} ⚠ ${p1!.name} · ${p1!.mrn} ⚠ 2\\+ patients in this bed`));
    for (const p of ward.patients) expect(getArtifact(a.db, cur.id, `mar/${p.mrn}`), p.mrn!).not.toBeNull();
  }, 120_000);
});
