import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirSourceSchema } from '../../agent/config/schema.js';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import type { SyntheticHospital } from '../../agent/demo/generator.js';
import { DATASETS, type WardSnapshot } from '../../agent/model/ward.js';
import { createFhirSource } from '../../agent/sources/fhir/index.js';
import type { Source } from '../../agent/sources/types.js';
import { startHis } from '../support/fixtures.js';

/**
 * Between full pulls a FHIR source asks only for what changed since its last
 * pull (_lastUpdated) and merges it into what it kept. Each step here is
 * checked against a full pull of the same server at the same moment: the
 * ward must come out the same, whatever changed.
 */
let his: FhirTestServer;
let hospital: SyntheticHospital;
beforeAll(async () => {
  ({ server: his, hospital } = await startHis({ patients: 6, now: new Date() }));
});
afterAll(async () => {
  await his.close();
});

const source = (baseUrl: string, fullPullEveryMinutes: number) =>
  createFhirSource(fhirSourceSchema.parse({ id: 'his', kind: 'fhir', baseUrl, retries: 0, fullPullEveryMinutes }), { configDir: '.', backoffMs: 10 });
const request = (now: Date) => ({ ward: { id: hospital.wards[0]!.id, name: 'Ward 1' }, location: `Location/${hospital.wards[0]!.id}`, datasets: DATASETS, now, signal: AbortSignal.timeout(20_000) });

/** A full pull of the same server at the same moment: what the merged pull must equal. */
async function fullPullAt(now: Date, baseUrl = his.url): Promise<WardSnapshot> {
  return (await source(baseUrl, 0).pull(request(now))).snapshot;
}

type Rec = Record<string, unknown> & { id: string };
const read = async (type: string, id: string) => (await his.repo.readResource(type as never, id)) as unknown as Rec;
const update = (r: Rec) => his.repo.updateResource(r as never);

// Medplum stamps meta.lastUpdated in milliseconds: let the clock move past the last pull.
const tick = () => new Promise((r) => setTimeout(r, 20));

describe('incremental FHIR pulls', () => {
  const ward = () => hospital.wards[0]!;
  let inc: Source;

  it('ask only for what changed, and end up with the ward a full pull sees: changed dose, stopped order, new allergy, new dose given', async () => {
    inc = source(his.url, 60);
    const first = await inc.pull(request(new Date()));
    expect(first.changesOnly).toBe(false);
    await tick();

    const [p1, p2, p3] = ward().patients;
    const changed = await read('MedicationRequest', p1!.orders.items[0]!.id);
    await update({ ...changed, dosageInstruction: [{ text: 'changed: 2 tablets twice daily' }] });
    const stopped = await read('MedicationRequest', p2!.orders.items[0]!.id);
    await update({ ...stopped, status: 'completed' });
    await his.load([
      { resourceType: 'AllergyIntolerance', id: 'new-allergy', patient: { reference: `Patient/${p3!.id}` }, clinicalStatus: { coding: [{ code: 'active' }] }, code: { text: 'Penicillin (added today)' }, criticality: 'high' },
      { resourceType: 'MedicationAdministration', id: 'new-dose', status: 'completed', subject: { reference: `Patient/${p3!.id}` }, effectiveDateTime: new Date().toISOString(), medicationCodeableConcept: { text: 'Paracetamol 500 mg' }, dosage: { dose: { value: 1, unit: 'viên' } } },
    ]);

    const now = new Date();
    const second = await inc.pull(request(now));
    expect(second.changesOnly).toBe(true);
    expect(second.snapshot.patients).toEqual((await fullPullAt(now)).patients);
    const got = (id: string) => second.snapshot.patients.find((p) => p.id === id)!;
    expect(JSON.stringify(got(p1!.id).orders.items.find((o) => o.id === changed.id))).toContain('changed: 2 tablets');
    expect(got(p2!.id).orders.items.map((o) => o.id)).not.toContain(stopped.id);
    expect(got(p3!.id).allergies.items.map((a) => a.substance)).toContain('Penicillin (added today)');
    expect(got(p3!.id).administrations.items.map((a) => a.drug)).toContain('Paracetamol 500 mg');
  });

  it('gives a newly admitted patient the full searches, and drops a discharged one', async () => {
    const template = ward().patients[0]!;
    const bed = ward().beds.find((b) => !b.patientId) ?? ward().beds[0]!;
    const enc = await read('Encounter', ward().encounterIds.get(template.id)!);
    await tick();
    await his.load([
      { resourceType: 'Patient', id: 'new-patient', identifier: [{ system: 'urn:mrn', value: 'MRN-NEW-1' }], name: [{ family: 'Trần', given: ['Văn Mới'] }], birthDate: '1950-01-01', gender: 'male' },
      { ...enc, id: 'new-encounter', subject: { reference: 'Patient/new-patient' }, location: [{ location: { reference: `Location/${bed.id}` }, status: 'active' }] },
      { resourceType: 'MedicationRequest', id: 'new-order', status: 'active', intent: 'order', subject: { reference: 'Patient/new-patient' }, medicationCodeableConcept: { text: 'Amoxicillin 500 mg' }, authoredOn: new Date().toISOString(), dosageInstruction: [{ text: '1 capsule three times daily' }] },
    ]);
    const discharged = ward().patients[1]!;
    const dEnc = await read('Encounter', ward().encounterIds.get(discharged.id)!);
    await update({ ...dEnc, status: 'finished' });

    const now = new Date();
    const r = await inc.pull(request(now));
    expect(r.changesOnly).toBe(true);
    expect(r.snapshot.patients).toEqual((await fullPullAt(now)).patients);
    expect(r.snapshot.patients.find((p) => p.id === 'new-patient')?.orders.items.map((o) => o.drug)).toEqual(['Amoxicillin 500 mg']);
    expect(r.snapshot.patients.map((p) => p.id)).not.toContain(discharged.id);
  });

  it('sees a resource deleted outright only at the next full pull, due every fullPullEveryMinutes', async () => {
    const p = ward().patients[2]!;
    await his.repo.deleteResource('AllergyIntolerance', 'new-allergy');
    // A search by change time cannot see a deletion: this is why full pulls stay on a clock.
    const soon = await inc.pull(request(new Date()));
    expect(soon.changesOnly).toBe(true);
    expect(soon.snapshot.patients.find((x) => x.id === p.id)!.allergies.items.map((a) => a.substance)).toContain('Penicillin (added today)');
    const later = new Date(Date.now() + 61 * 60_000);
    const due = await inc.pull(request(later));
    expect(due.changesOnly).toBe(false);
    expect(due.snapshot.patients).toEqual((await fullPullAt(later)).patients);
    expect(due.snapshot.patients.find((x) => x.id === p.id)!.allergies.items.map((a) => a.substance)).not.toContain('Penicillin (added today)');
  });

  it('moves the 24 h window of doses given for patients nothing changed for, as a full pull would', async () => {
    const [p1, , , p4] = ward().patients;
    const start = new Date();
    // A dose given 23 h ago: on the sheets now, out of the window three hours later.
    await his.load([{ resourceType: 'MedicationAdministration', id: 'old-dose', status: 'completed', subject: { reference: `Patient/${p4!.id}` }, effectiveDateTime: new Date(start.getTime() - 23 * 3_600_000).toISOString(), medicationCodeableConcept: { text: 'Morphine 10 mg (old dose)' }, dosage: { dose: { value: 1, unit: 'ống' } } }]);
    // Only what changes after the first pull comes back (no overlap), so the dose's patient is not
    // among the changed ones: what was made of her last time is reused, and must still move with the clock.
    await new Promise((r) => setTimeout(r, 1100)); // the server's Date header counts whole seconds
    const s = createFhirSource(fhirSourceSchema.parse({ id: 'his', kind: 'fhir', baseUrl: his.url, retries: 0, fullPullEveryMinutes: 600 }), { configDir: '.', changesOverlapSeconds: 0 });
    const first = await s.pull(request(start));
    const drugsOf = (snap: WardSnapshot, id: string) => snap.patients.find((p) => p.id === id)!.administrations.items.map((a) => a.drug);
    expect(drugsOf(first.snapshot, p4!.id)).toContain('Morphine 10 mg (old dose)');
    await tick();
    // Something changes for another patient only.
    const o = await read('MedicationRequest', p1!.orders.items[0]!.id);
    await update({ ...o, dosageInstruction: [{ text: 'changed three hours on' }] });
    const later = new Date(start.getTime() + 3 * 3_600_000);
    const r = await s.pull(request(later));
    expect(r.changesOnly).toBe(true);
    expect(r.snapshot.patients).toEqual((await fullPullAt(later)).patients);
    expect(drugsOf(r.snapshot, p4!.id)).not.toContain('Morphine 10 mg (old dose)');
    expect(r.snapshot.patients.find((p) => p.id === p4!.id)!.administrations.since).toBe(new Date(later.getTime() - 86_400_000).toISOString());
  });

  it('falls back to full searches, with the same ward, when the server refuses _lastUpdated', async () => {
    let refused = 0;
    // A server in front of the real one that does not support _lastUpdated, as some EHR endpoints do not.
    const proxy = http.createServer((req, res) => {
      if (req.url?.includes('_lastUpdated')) {
        refused++;
        res.writeHead(400, { 'content-type': 'application/fhir+json' });
        res.end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-supported', diagnostics: 'unknown search parameter _lastUpdated' }] }));
        return;
      }
      const up = http.request(`${his.url}${req.url!.replace(/^\/fhir\/R4/, '')}`, { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode!, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/fhir/R4`;
    try {
      const s = source(url, 60);
      await s.pull(request(new Date()));
      await tick();
      const o = await read('MedicationRequest', ward().patients[0]!.orders.items[1]!.id);
      await update({ ...o, dosageInstruction: [{ text: 'changed behind a proxy' }] });
      const now = new Date();
      const r = await s.pull(request(now));
      expect(refused).toBeGreaterThan(0);
      expect(r.changesOnly).toBe(false);
      expect(r.snapshot.patients).toEqual((await fullPullAt(now)).patients);
    } finally {
      proxy.close();
    }
  });
});
