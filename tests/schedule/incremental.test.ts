import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import type { SyntheticHospital } from '../../agent/demo/generator.js';
import { runJob } from '../../agent/schedule/run.js';
import { currentSnapshot, getArtifact, listArtifacts } from '../../agent/store/snapshots.js';
import { REPO, jobYaml, openTestAgent, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';

let his: FhirTestServer;
let hospital: SyntheticHospital;
beforeAll(async () => {
  ({ server: his, hospital } = await startHis({ patients: 6, now: new Date() }));
});
afterAll(async () => {
  await his.close();
});

const docs = (a: TestAgent) => new Map(listArtifacts(a.db, currentSnapshot(a.db, 'ward-1')!.id, 'document').map((x) => [x.address, x]));
const pdfText = (a: TestAgent, address: string) => {
  const f = path.join(tmpDir(), 'd.pdf');
  fs.writeFileSync(f, a.blobs.get(getArtifact(a.db, currentSnapshot(a.db, 'ward-1')!.id, address)!.sha256));
  return spawnSync('pdftotext', [f, '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
};

describe('incremental snapshots', () => {
  it('renders only what changed, keeps each sheet’s own as-of, and says so on the census', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': jobYaml('ward-1').replace('documents: [census, mar]', 'documents: [census, mar, summary]') } });
    // Its own copy of the templates, so the test can edit one.
    fs.rmSync(path.join(dir, 'templates'));
    fs.cpSync(path.join(REPO, 'templates'), path.join(dir, 'templates'), { recursive: true });
    const a = openTestAgent(dir);
    const n = hospital.wards[0]!.patients.length;

    const first = await runJob(a, 'ward-1', { trigger: 'manual' });
    expect(first.counts).toMatchObject({ documents: 1 + 2 * n, rendered: 1 + 2 * n, reused: 0 });
    const before = docs(a);

    // Nothing changed: only the census is made again.
    const second = await runJob(a, 'ward-1', { trigger: 'manual' });
    expect(second.counts).toMatchObject({ documents: 1 + 2 * n, rendered: 1, reused: 2 * n });
    const after = docs(a);
    const p = hospital.wards[0]!.patients[0]!;
    expect(after.get(`mar/${p.mrn}`)!.sha256).toBe(before.get(`mar/${p.mrn}`)!.sha256);
    expect(after.get(`mar/${p.mrn}`)!.asOf).toBe(before.get(`mar/${p.mrn}`)!.asOf);
    expect(after.get('census')!.sha256).not.toBe(before.get('census')!.sha256);
    expect(pdfText(a, 'census')).toMatch(/patient sheets unchanged since \d\d\/\d\d\/\d{4} \d\d:\d\d .* were kept; their data was checked unchanged at this time/);

    // One patient changes: her two sheets are made again, nobody else's.
    const fhirPatient = await his.repo.readResource('Patient', p.id);
    await his.repo.updateResource({ ...fhirPatient, name: [{ use: 'official', text: 'Đoàn Thị Mới' }] });
    const third = await runJob(a, 'ward-1', { trigger: 'manual' });
    expect(third.counts).toMatchObject({ rendered: 3, reused: 2 * n - 2 });
    expect(pdfText(a, `mar/${p.mrn}`)).toContain('Đoàn Thị Mới');
    expect(docs(a).get(`mar/${p.mrn}`)!.asOf).toBe(currentSnapshot(a.db, 'ward-1')!.asOf);

    // A template or wording change makes everything again.
    const en = path.join(dir, 'templates', 'i18n', 'en.json');
    fs.writeFileSync(en, fs.readFileSync(en, 'utf8').replace('"Medication administration record"', '"Medication administration record (MAR)"'));
    const fourth = await runJob(a, 'ward-1', { trigger: 'manual' });
    expect(fourth.counts).toMatchObject({ rendered: 1 + 2 * n, reused: 0 });
    expect(pdfText(a, `mar/${p.mrn}`)).toContain('Medication administration record (MAR)');
    a.db.close();
  });

  it('never reuses when the job says so, or when a kept file has gone missing', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': jobYaml('ward-1', 'reuseWithinMinutes: 0\n') } });
    const a = openTestAgent(dir);
    await runJob(a, 'ward-1', { trigger: 'manual' });
    // The data's as-of moves on every run, so a zero window reuses nothing.
    await new Promise((r) => setTimeout(r, 5));
    expect((await runJob(a, 'ward-1', { trigger: 'manual' })).counts).toMatchObject({ reused: 0 });
    a.db.close();

    const dir2 = writeConfigDir(tmpDir(), { baseUrl: his.url });
    const b = openTestAgent(dir2);
    await runJob(b, 'ward-1', { trigger: 'manual' });
    const mar = [...docs(b).values()].find((d) => d.address.startsWith('mar/'))!;
    fs.rmSync(b.blobs.pathOf(mar.sha256));
    const r = await runJob(b, 'ward-1', { trigger: 'manual' });
    expect(r.counts.reused).toBe(hospital.wards[0]!.patients.length - 1);
    expect(b.blobs.get(docs(b).get(mar.address)!.sha256).subarray(0, 5).toString()).toBe('%PDF-');
    b.db.close();
  });
});
