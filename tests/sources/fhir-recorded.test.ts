import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { fhirClient } from '../../agent/sources/fhir/client.js';
import { httpGetter } from '../../agent/sources/http.js';
import { mrnOf, nameText, toOrders } from '../../agent/sources/fhir/normalize.js';
import { startHis } from '../support/fixtures.js';

/** Bundles shaped like Epic's and Oracle Health's public sandbox answers, served over real HTTP. */
const fixture = (name: string) => fs.readFileSync(path.join(import.meta.dirname, '../fixtures/fhir', name), 'utf8');

let his: FhirTestServer;
beforeAll(async () => {
  ({ server: his } = await startHis({ patients: 1 }));
  his.fault = ({ path: p }) =>
    p.startsWith('/MedicationRequest') ? { kind: 'body', body: fixture('epic-medicationrequest-searchset.json') } : p.startsWith('/Patient') ? { kind: 'body', body: fixture('oracle-patient-searchset.json') } : undefined;
});
afterAll(async () => {
  his.fault = null;
  await his.close();
});

const client = () => fhirClient(his.url, httpGetter({ timeoutMs: 3000, maxResponseBytes: 1e6, retries: 0, maxConcurrency: 2 }), { pageSize: 50 });

describe('recorded EHR answers', () => {
  it('reads an Epic-style MedicationRequest searchset: referenced medication, timing, PRN, outcome warning', async () => {
    const r = await client().search('MedicationRequest', { subject: 'Patient/eRecorded1' });
    expect(r.matches).toHaveLength(2);
    expect(r.warnings).toEqual([expect.stringMatching(/^MedicationRequest search: Client Id: paperback/)]);
    const [cefazolin, oxy] = r.matches.flatMap((m) => toOrders(m, new Map(), new Map()));
    expect(cefazolin).toMatchObject({ drug: 'ceFAZolin (ANCEF) 2 g in dextrose 5 % 100 mL IVPB', dose: '2 g', route: 'Intravenous', frequency: 'Every 8 hours', scheduledTimes: ['00:00', '08:00', '16:00'], prn: false, start: '2026-11-20T16:00:00Z', orderedBy: 'Physician, Attending, MD' });
    expect(oxy).toMatchObject({ drug: 'oxyCODONE (ROXICODONE) immediate release tablet 5 mg', dose: '5 mg', frequency: null, timing: { frequency: 1, period: 4, periodUnit: 'h' }, prn: true, prnReason: 'moderate pain (4-6)', scheduledTimes: [], highAlert: true });
  });

  it('reads an Oracle Health-style Patient: the MRN among several identifiers, the official name', async () => {
    const r = await client().search('Patient', { _id: '12724066' });
    const [p] = r.matches;
    expect(mrnOf(p!)).toBe('10002701');
    expect(nameText(p!.name)).toBe('SMART, NANCY ANN');
    expect(p!.birthDate).toBe('1980-08-11');
  });
});
