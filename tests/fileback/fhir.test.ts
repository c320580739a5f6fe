import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { fileBack } from '../../agent/fileback/file-back.js';
import { RECORDED_EXTENSION } from '../../agent/fileback/fhir-bundle.js';
import { URI_SYSTEM } from '../../agent/fileback/identifiers.js';
import { patientKey, patientsInBedOrder } from '../../agent/model/helpers.js';
import type { Patient } from '../../agent/model/ward.js';
import { endDowntime, startDowntime } from '../../agent/outage/downtime.js';
import { runJob } from '../../agent/schedule/run.js';
import { entryCounts, listEntries, recordEntry, type EntryRow } from '../../agent/store/downtime-entries.js';
import { currentSnapshot, readSnapshotWard } from '../../agent/store/snapshots.js';
import { CLI, jobYaml, openTestAgent, REPO, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';

/**
 * File-back to a real FHIR server (Medplum's router and repository): one
 * transaction per patient, each resource named by its entry, so sending
 * again (a second run, or after a SIGKILL while the server was answering)
 * creates nothing twice. What FHIR cannot carry, or the HIS already has,
 * goes to a person with the reason.
 */
describe('file-back over FHIR', () => {
  let his: FhirTestServer;
  let a: TestAgent;
  let dir: string;
  let patients: Patient[];
  const min = (m: number) => new Date(Date.now() + m * 60_000);
  const count = async (type: string) => (await his.repo.searchResources({ resourceType: type, count: 1000 } as never)).length;

  beforeAll(async () => {
    his = (await startHis({ patients: 4 })).server;
    dir = writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': jobYaml('ward-1').replace('"*/5 * * * *"', '"0 0 1 1 *"') }, extraSource: 'fileBack: { to: fhir, source: his }\n', sourceTimeoutMs: 30_000 });
    a = openTestAgent(dir);
    expect((await runJob(a, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
    patients = patientsInBedOrder(readSnapshotWard(a.db, a.blobs, currentSnapshot(a.db, 'ward-1')!.id)!);
  }, 60_000);
  afterAll(async () => {
    a?.db.close();
    await his?.close();
  });

  function downtimeWith(record: (r: (p: Patient, minutes: number, payload: unknown, corrects?: { id: number; reason: string }) => EntryRow) => void) {
    const dt = startDowntime(a.db, { kind: 'declared', cause: 'network cut' }, min(-240));
    const r = (p: Patient, minutes: number, payload: unknown, corrects?: { id: number; reason: string }) =>
      recordEntry(a.db, a.blobs, { jobId: 'ward-1', patient: patientKey(p), occurredAt: min(minutes).toISOString(), payload, ...(corrects ? { corrects } : {}) }, { downtime: dt, by: 'lan.nguyen', marginMinutes: 60, now: min(0) });
    record(r);
    endDowntime(a.db, dt.id, null, 'test', min(0));
  }

  it('files doses, vital signs and notes once per entry, with when they happened and when they were entered', { timeout: 60_000 }, async () => {
    const [p1, p2] = patients;
    const order = p1!.orders.items.find((o) => !o.prn)!;
    downtimeWith((r) => {
      r(p1!, -200, { kind: 'administration', orderId: order.id, drug: order.drug, outcome: 'given', dose: '500 mg' });
      r(p1!, -150, { kind: 'administration', orderId: order.id, drug: order.drug, outcome: 'refused', reason: 'nausea' });
      r(p1!, -120, { kind: 'vitals', temperatureC: 38.4, pulse: 104, systolic: 132, diastolic: 84, spo2: 95 });
      r(p2!, -100, { kind: 'note', text: 'Gia đình đã được báo' });
      r(p2!, -90, { kind: 'transfer', toBed: 'X9' });
    });
    const before = { ma: await count('MedicationAdministration'), obs: await count('Observation'), doc: await count('DocumentReference'), prov: await count('Provenance') };
    const report = await fileBack({ ...a });
    expect(report).toMatchObject({ filed: 4, failed: 0, rejected: 0, needsPerson: 1 });
    expect(await count('MedicationAdministration')).toBe(before.ma + 2);
    expect(await count('Observation')).toBe(before.obs + 4); // temperature, pulse, SpO2, and one blood pressure panel
    expect(await count('DocumentReference')).toBe(before.doc + 1);
    expect(await count('Provenance')).toBe(before.prov + 4);

    const entries = listEntries(a.db, a.blobs, { jobId: 'ward-1' });
    const given = entries.find((e) => e.payload.kind === 'administration' && e.payload.outcome === 'given')!;
    expect(given.state).toBe('filed');
    expect(given.filedRef).toMatch(/^MedicationAdministration\/[\w-]+$/);
    const ma = (await his.repo.readResource('MedicationAdministration', given.filedRef!.split('/')[1]!)) as unknown as Record<string, any>;
    expect(ma.status).toBe('completed');
    expect(ma.effectiveDateTime).toBe(given.occurredAt);
    expect(ma.extension).toEqual([{ url: RECORDED_EXTENSION, valueDateTime: given.enteredAt }]);
    expect(ma.request.reference).toBe(`MedicationRequest/${order.id}`);
    expect(ma.subject.reference).toBe(`Patient/${p1!.id}`);
    const refused = (await his.repo.searchResources({ resourceType: 'MedicationAdministration', filters: [{ code: 'status', operator: 'eq', value: 'not-done' }] } as never)) as unknown as Record<string, any>[];
    expect(refused.some((m) => m.statusReason?.[0]?.text === 'refused: nausea')).toBe(true);
    const bp = ((await his.repo.searchResources({ resourceType: 'Observation', count: 1000 } as never)) as unknown as Record<string, any>[]).find((o) => o.code?.coding?.[0]?.code === '85354-9' && o.identifier?.[0]?.system === URI_SYSTEM)!;
    expect(bp.component.map((c: any) => [c.code.coding[0].code, c.valueQuantity.value, c.valueQuantity.code])).toEqual([['8480-6', 132, 'mm[Hg]'], ['8462-4', 84, 'mm[Hg]']]);
    const temp = ((await his.repo.searchResources({ resourceType: 'Observation', count: 1000 } as never)) as unknown as Record<string, any>[]).find((o) => o.code?.coding?.[0]?.code === '8310-5' && o.identifier?.[0]?.system === URI_SYSTEM)!;
    expect(temp.valueQuantity).toEqual({ value: 38.4, unit: '°C', system: 'http://unitsofmeasure.org', code: 'Cel' });
    const prov = ((await his.repo.searchResources({ resourceType: 'Provenance', count: 1000 } as never)) as unknown as Record<string, any>[]).find((p) => p.target.some((t: any) => t.reference === given.filedRef))!;
    expect(prov).toMatchObject({ occurredDateTime: given.occurredAt, recorded: given.enteredAt, activity: { text: 'entered during downtime' } });
    expect(prov.agent[0].who.display).toBe('lan.nguyen');
    // The move is not a FHIR resource the HIS takes this way: a person enters it, and is told why.
    const move = entries.find((e) => e.kind === 'transfer')!;
    expect(move.state).toBe('needs-person');
    expect(move.lastError).toMatch(/a transfer is entered in the HIS by hand/);

    // Again: nothing pending, nothing sent.
    expect(await fileBack({ ...a })).toMatchObject({ filed: 0, failed: 0 });
    expect(await count('MedicationAdministration')).toBe(before.ma + 2);
  });

  it('shows a person a dose the HIS already has for that order and time, and files nothing for it', { timeout: 60_000 }, async () => {
    const p3 = patients[2]!;
    const order = p3.orders.items.find((o) => !o.prn)!;
    const at = min(-60);
    await his.repo.createResource({ resourceType: 'MedicationAdministration', status: 'completed', subject: { reference: `Patient/${p3.id}` }, request: { reference: `MedicationRequest/${order.id}` }, medicationCodeableConcept: { text: order.drug }, effectiveDateTime: new Date(at.getTime() + 10 * 60_000).toISOString() } as never);
    downtimeWith((r) => void r(p3, -60, { kind: 'administration', orderId: order.id, drug: order.drug, outcome: 'given' }));
    const before = await count('MedicationAdministration');
    expect(await fileBack({ ...a })).toMatchObject({ filed: 0, needsPerson: 1 });
    expect(await count('MedicationAdministration')).toBe(before);
    const e = listEntries(a.db, a.blobs, { jobId: 'ward-1', patient: patientKey(p3) }).at(-1)!;
    expect(e.state).toBe('needs-person');
    expect(e.lastError).toMatch(/the HIS already has an administration of this order 10 min from this one/);
  });

  it('files each entry exactly once when `paperback entries fileback` is SIGKILLed after the HIS took the transaction', { timeout: 120_000 }, async () => {
    const p4 = patients[3]!;
    downtimeWith((r) => {
      r(p4, -30, { kind: 'vitals', pulse: 88 });
      r(p4, -20, { kind: 'note', text: 'Slept well' });
    });
    const before = { obs: await count('Observation'), doc: await count('DocumentReference'), prov: await count('Provenance') };
    his.holdAnswerMs = 30_000;
    const child = spawn(process.execPath, [CLI, '--config', dir, 'entries', 'fileback'], { cwd: REPO, stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    const end = Date.now() + 60_000;
    while ((await count('DocumentReference')) === before.doc && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    // The CLI's transaction reached the HIS (not a CLI that failed before sending): then it dies.
    expect(await count('DocumentReference')).toBe(before.doc + 1);
    child.kill('SIGKILL'); // the HIS has it; the box never heard
    await exited;
    his.holdAnswerMs = 0;
    expect(entryCounts(a.db).pending).toBeGreaterThanOrEqual(2);
    const report = await fileBack({ ...a });
    expect(report).toMatchObject({ filed: 2, failed: 0 });
    expect(await count('Observation')).toBe(before.obs + 1);
    expect(await count('DocumentReference')).toBe(before.doc + 1);
    expect(await count('Provenance')).toBe(before.prov + 2);
  });
});
