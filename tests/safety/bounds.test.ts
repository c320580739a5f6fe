import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import type { SyntheticHospital } from '../../agent/demo/generator.js';
import { boundWard, CUT_MARK } from '../../agent/model/bounds.js';
import type { WardSnapshot } from '../../agent/model/ward.js';
import { runJob } from '../../agent/schedule/run.js';
import { currentSnapshot, getArtifact } from '../../agent/store/snapshots.js';
import { jobYaml, openTestAgent, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { pdfText } from '../support/pdf-text.js';

/**
 * Input a sheet cannot hold: a 40 kB name is cut with a visible mark and the
 * ward still prints; dates no patient can have are shown as unknown, and the
 * census says both. Against a real FHIR server, read back from the PDF.
 */
const NOW = new Date('2026-11-22T03:00:00Z');

describe('bounded input', () => {
  let his: { server: FhirTestServer; hospital: SyntheticHospital };
  let a: TestAgent;
  beforeAll(async () => {
    his = await startHis({ patients: 5, now: NOW, seed: 4 });
    a = openTestAgent(writeConfigDir(tmpDir(), { baseUrl: his.server.url }));
  }, 60_000);
  afterAll(async () => {
    a?.db.close();
    await his?.server.close();
  });

  it('cuts a 40 kB name with a mark, makes impossible dates unknown, and says so on the census', async () => {
    const ward = his.hospital.wards[0]!;
    const [p1, p2] = ward.patients;
    const huge = `Nguyễn ${'Thị '.repeat(10_000)}Hồng`;
    const fp = (await his.server.repo.readResource('Patient', p1!.id)) as unknown as Record<string, unknown>;
    await his.server.repo.updateResource({ ...fp, name: [{ use: 'official', text: huge }], birthDate: '2099-01-01' } as never);
    const enc = (await his.server.repo.readResource('Encounter', ward.encounterIds.get(p2!.id)!)) as unknown as Record<string, unknown>;
    await his.server.repo.updateResource({ ...enc, period: { start: '2027-06-01T08:00:00+07:00' } } as never);

    const o = await runJob({ ...a, now: () => NOW }, 'ward-1', { trigger: 'manual' });
    expect(o.status, o.error ?? '').toBe('succeeded');
    const cur = currentSnapshot(a.db, 'ward-1')!;
    const census = pdfText(a.blobs.get(getArtifact(a.db, cur.id, 'census')!.sha256)).text;
    expect(census).toContain(`Nguyễn Thị Thị`);
    expect(census).toContain(CUT_MARK);
    expect(census).not.toContain('Hồng');
    expect(census).toContain('1 value(s) from the HIS were too long for paper and are cut');
    expect(census).toContain('2 date(s) from the HIS cannot be real');
    expect(census).not.toContain('2099');
    expect(census).not.toContain('2027');
    // Every patient still has her sheet.
    for (const p of ward.patients) expect(getArtifact(a.db, cur.id, `mar/${p.mrn}`), p.mrn!).not.toBeNull();
    const mar = pdfText(a.blobs.get(getArtifact(a.db, cur.id, `mar/${p1!.mrn}`)!.sha256)).text;
    expect(mar).toContain('Nguyễn Thị Thị');
    expect(mar).not.toContain('Hồng');
  }, 120_000);
});

describe('boundWard', () => {
  const snap = (birthDate: string | null): WardSnapshot => ({
    ward: { id: 'w', name: 'W' }, asOf: NOW.toISOString(), source: { id: 's', system: 'S', location: null }, beds: [], warnings: [],
    patients: [{ id: 'p', mrn: 'M', name: 'N', birthDate, sex: null, bedId: null, admittedAt: null, attending: null, admittingDiagnosis: null, codeStatus: null, isolation: [], flags: [], weightKg: null, diagnoses: { status: 'available', items: [] }, allergies: { status: 'not-recorded', items: [] }, orders: { status: 'available', items: [] }, administrations: { status: 'available', since: null, items: [] } }],
  });
  it('keeps real dates, partial ones included, and drops ones that cannot be', () => {
    for (const ok of ['1950-03-04', '1974', '1974-12', '2026-11-21']) expect(boundWard(snap(ok)).implausible, ok).toBe(0);
    for (const bad of ['9999-99-99', '2026-02-30', '2027-01-01', '1850-01-01', '12/03/1950']) expect(boundWard(snap(bad)).implausible, bad).toBe(1);
  });
});
