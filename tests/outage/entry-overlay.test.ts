import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { patientKey, patientsInBedOrder } from '../../agent/model/helpers.js';
import type { WardSnapshot } from '../../agent/model/ward.js';
import { admitDuringDowntime } from '../../agent/outage/admissions.js';
import { startDowntime, type DowntimeRow } from '../../agent/outage/downtime.js';
import { runJob } from '../../agent/schedule/run.js';
import { recordEntry } from '../../agent/store/downtime-entries.js';
import { importNumbers } from '../../agent/store/downtime-numbers.js';
import { currentSnapshot, getArtifact, readSnapshotWard } from '../../agent/store/snapshots.js';
import { jobYaml, openTestAgent, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { pdfText } from '../support/pdf-text.js';

/**
 * Paper during a long downtime reflects what nurses recorded on the box
 * (issue #25): read back from the PDFs each run publishes, never from the
 * view model. Entries are applied to the HIS's ward, so however many runs
 * follow, a dose is printed once, and a corrected entry is no longer printed.
 */
describe('downtime entries on paper', () => {
  let his: FhirTestServer;
  let a: TestAgent;
  let dt: DowntimeRow;
  let ward: WardSnapshot;
  const min = (m: number) => new Date(Date.now() + m * 60_000);

  beforeAll(async () => {
    his = (await startHis({ patients: 6 })).server;
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': jobYaml('ward-1').replace('documents: [census, mar]', 'documents: [census, mar, summary]') } });
    a = openTestAgent(dir);
    expect((await runJob(a, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
    ward = readSnapshotWard(a.db, a.blobs, currentSnapshot(a.db, 'ward-1')!.id)!;
    dt = startDowntime(a.db, { kind: 'declared', cause: 'ransomware' }, min(-180));
  });
  afterAll(async () => {
    a?.db.close();
    await his?.close();
  });

  const record = (patient: string, minutes: number, payload: unknown, corrects?: { id: number; reason: string }) =>
    recordEntry(a.db, a.blobs, { jobId: 'ward-1', patient, occurredAt: min(minutes).toISOString(), payload, ...(corrects ? { corrects } : {}) }, { downtime: dt, by: 'lan.nguyen', marginMinutes: 60, now: min(0) });
  const pdf = (address: string) => {
    const snap = currentSnapshot(a.db, 'ward-1')!;
    const art = getArtifact(a.db, snap.id, address);
    expect(art, address).not.toBeNull();
    return pdfText(a.blobs.get(art!.sha256)).text;
  };

  it('prints doses, vital signs, notes, moves, discharges and downtime admissions on the census, MAR and summary', { timeout: 60_000 }, async () => {
    const [p1, p2, p3] = patientsInBedOrder(ward);
    const order = p1!.orders.items.find((o) => !o.prn)!;
    const empty = ward.beds.find((b) => !b.patientId)!;
    const k1 = patientKey(p1!);
    record(k1, -120, { kind: 'administration', orderId: order.id, drug: order.drug, outcome: 'given', dose: '500 mg' });
    const wrong = record(k1, -60, { kind: 'administration', orderId: order.id, drug: order.drug, outcome: 'held', reason: 'asleep' });
    record(k1, -60, { kind: 'administration', orderId: order.id, drug: order.drug, outcome: 'refused', reason: 'nausea, vomited twice' }, { id: wrong.id, reason: 'she refused it' });
    record(k1, -50, { kind: 'vitals', temperatureC: 38.4, pulse: 104, systolic: 132, diastolic: 84, spo2: 95 });
    record(k1, -45, { kind: 'note', text: 'Family informed of the downtime' });
    record(patientKey(p2!), -40, { kind: 'transfer', toBed: empty.label });
    record(patientKey(p3!), -30, { kind: 'discharge', destination: 'home' });
    importNumbers(a.db, 'DT0001\nDT0002\n', 'numbers.txt');
    admitDuringDowntime(a.db, a.blobs, { family: 'Trần', given: 'Thị Mai', birthDate: '1990-04-02', sex: 'female', bed: '' }, { ward: 'ward-1', by: 'lan.nguyen', nameOrder: 'family-first', now: min(-20) });

    const o = await runJob(a, 'ward-1', { trigger: 'entries' });
    expect(o.status, o.error ?? '').toBe('succeeded');
    expect(o.counts.requests).toBe(0); // the HIS was not asked

    const mar = pdf(`mar/${k1}`);
    expect(mar).toContain('Recorded on this box during the downtime');
    expect(mar).toMatch(new RegExp(`${escape(order.drug)} — given 500 mg`));
    expect(mar).toMatch(/refused: nausea, vomited twice/);
    expect(mar).toMatch(/corrects an earlier entry: she refused it/);
    expect(mar).not.toMatch(/held: asleep/); // corrected: no longer printed
    expect(mar).toMatch(/T 38.4 °C · pulse 104\/min · BP 132\/84 mmHg · SpO₂ 95 %/);
    expect(mar).toMatch(/lan\.nguyen · entered \S+ \S+ \(GMT\+7\) during the downtime/);
    // Every page says entries changed it, and up to when: her sheets count her own four (the held
    // dose is corrected by the refusal), the census the ward's six and its downtime admission.
    expect(mar).toMatch(/\+ 4 downtime entries up to/);
    // The "last given" column reads the dose given during the downtime, marked as such.
    expect(mar).toMatch(/lan\.nguyen \(downtime entry\)/);

    const summary = pdf(`summary/${k1}`);
    expect(summary).toContain('note: Family informed of the downtime');

    const census = pdf('census');
    expect(census).toMatch(/\+ 7 downtime entries up to/);
    expect(census).toContain('Left the ward during the downtime');
    expect(census).toMatch(new RegExp(`${escape(p3!.mrn!)} discharged to home`));
    expect(census).toMatch(/DOWNTIME ADMISSION DT0001: not in the HIS yet/);
    // The moved patient is in her new bed.
    const moved = readSnapshotWard(a.db, a.blobs, currentSnapshot(a.db, 'ward-1')!.id)!;
    expect(moved.patients.find((p) => p.id === p2!.id)!.bedId).toBe(empty.id);
    expect(moved.patients.some((p) => p.id === p3!.id)).toBe(false);
    // A discharged patient's sheets are not printed any more.
    expect(getArtifact(a.db, currentSnapshot(a.db, 'ward-1')!.id, `mar/${patientKey(p3!)}`)).toBeNull();
  });

  it('applies entries to the HIS data once, however many runs follow, and past retention', { timeout: 90_000 }, async () => {
    // keepLast is 3: four more runs would lose the HIS's own ward if it were not kept beside each.
    for (let i = 0; i < 4; i++) expect((await runJob(a, 'ward-1', { trigger: 'entries' })).status).toBe('succeeded');
    const [p1] = patientsInBedOrder(ward);
    const mar = pdf(`mar/${patientKey(p1!)}`);
    expect(mar.match(/— given 500 mg/g)).toHaveLength(1);
    // A pull from the HIS during the downtime (it answers) keeps the entries on paper.
    expect((await runJob(a, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
    expect(pdf(`mar/${patientKey(p1!)}`).match(/— given 500 mg/g)).toHaveLength(1);
    expect(pdf('census')).toContain('DOWNTIME ADMISSION DT0001');
  });
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
