import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirSourceSchema } from '../../agent/config/schema.js';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import type { SyntheticHospital } from '../../agent/demo/generator.js';
import { DATASETS } from '../../agent/model/ward.js';
import { createDropFolderSource } from '../../agent/sources/dropfolder/index.js';
import { createFhirSource } from '../../agent/sources/fhir/index.js';
import { memoryLogger, startHis, tmpDir } from '../support/fixtures.js';

/**
 * The census can come from more than Encounter-by-location: a patient list
 * (FHIR List, as Epic exposes its unit lists) or a drop-folder export, with
 * medications and allergies then pulled per patient over FHIR by MRN. (The
 * HL7 ADT census is in hl7.test.ts.)
 */
let his: FhirTestServer;
let hospital: SyntheticHospital;
beforeAll(async () => {
  ({ server: his, hospital } = await startHis({ patients: 8, now: new Date() }));
});
afterAll(async () => {
  await his.close();
});

const fhir = () => createFhirSource(fhirSourceSchema.parse({ id: 'his', kind: 'fhir', baseUrl: his.url, retries: 0 }), { configDir: '.', backoffMs: 10 });
const request = (location: string) => ({ ward: { id: 'ward-1', name: 'Ward 1' }, location, datasets: DATASETS, now: new Date(), signal: AbortSignal.timeout(20_000) });

describe('census strategies', () => {
  it('takes the census from a patient list (FHIR List) and finds each bed from the encounter', async () => {
    const ward = hospital.wards[0]!;
    const listed = ward.patients.slice(0, 3);
    await his.load([{ resourceType: 'List', id: 'unit-3a', status: 'current', mode: 'working', entry: [...listed.map((p) => ({ item: { reference: `Patient/${p.id}` } })), { item: { reference: `Patient/${ward.patients[3]!.id}` }, deleted: true }] }]);
    const r = await fhir().pull(request('List/unit-3a'));
    expect(r.snapshot.patients.map((p) => p.mrn).sort()).toEqual(listed.map((p) => p.mrn).sort());
    for (const p of listed) {
      const got = r.snapshot.patients.find((x) => x.mrn === p.mrn)!;
      const bedLabel = ward.beds.find((b) => b.id === p.bedId)!.label;
      expect(r.snapshot.beds.find((b) => b.id === got.bedId)?.label).toBe(bedLabel);
      expect(got.orders.status).toBe('available');
      expect(got.orders.items.length).toBe(p.orders.items.length);
      expect(got.allergies.status).toBe(p.allergies.status);
    }
  });

  it('says plainly when the list does not exist', async () => {
    await expect(fhir().pull(request('List/nope'))).rejects.toThrow('the patient list List/nope does not exist on the server; check scope.location in the snapshot job');
  });

  it('takes the census from a drop-folder export and medications from FHIR by MRN', async () => {
    const ward = hospital.wards[0]!;
    const [a, b] = ward.patients;
    const dir = tmpDir('pb-drop-clin-');
    const src = createDropFolderSource({ id: 'export', name: 'Census export', folder: 'drop' }, { configDir: dir, log: memoryLogger().log, watch: false, clinical: fhir() });
    const accepted = path.join(src.folder.accepted, 'ward-1');
    fs.mkdirSync(accepted, { recursive: true });
    fs.writeFileSync(
      path.join(accepted, 'census.csv'),
      `bed,room,mrn,name,birth_date,sex,admitted_at,attending,diagnosis,code_status,isolation,allergies,weight_kg,flags\n12A,12,${a!.mrn},${a!.name},,,,,,,,Latex,,\n12B,12,${b!.mrn},${b!.name},,,,,,,,,,\n12C,12,NOT-KNOWN-1,Trần Văn Ba,,,,,,,,Penicillin,,\n`,
    );
    const r = await src.pull(request('ward-1'));
    const byMrn = new Map(r.snapshot.patients.map((p) => [p.mrn, p]));
    expect(byMrn.get(a!.mrn)!.orders).toMatchObject({ status: 'available' });
    expect(byMrn.get(a!.mrn)!.orders.items.length).toBe(a!.orders.items.length);
    expect(byMrn.get(b!.mrn)!.bedId).toBe('bed-12B');
    expect(byMrn.get('NOT-KNOWN-1')!.orders.status).toBe('not-pulled');
    expect(r.snapshot.warnings.map((w) => w.message)).toContain('1 patient(s) on the census were not found on the clinical server by MRN: their medication lists are not on this snapshot');
    expect(r.requests).toBeGreaterThan(0);
    // The export's allergies are kept beside the server's, labelled with where each came from; none replaces the other.
    const aAllergies = byMrn.get(a!.mrn)!.allergies;
    expect(aAllergies.status).toBe('recorded');
    expect(aAllergies.items.find((x) => x.substance === 'Latex')).toMatchObject({ source: 'Census export' });
    for (const fromServer of a!.allergies.items) expect(aAllergies.items.find((x) => x.substance === fromServer.substance)?.source).toMatch(/FHIR|Demo|HIS/);
    // A patient the server does not know keeps the export's list as sent, credited to no one else.
    expect(byMrn.get('NOT-KNOWN-1')!.allergies).toEqual({ status: 'recorded', items: [expect.objectContaining({ substance: 'Penicillin' })] });
    expect(byMrn.get('NOT-KNOWN-1')!.allergies.items[0]!.source).toBeUndefined();
    await src.close?.();
  });
});
