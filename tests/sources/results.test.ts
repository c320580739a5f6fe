import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import type { SyntheticHospital } from '../../agent/demo/generator.js';
import { patientKey, patientsInBedOrder } from '../../agent/model/helpers.js';
import { runJob } from '../../agent/schedule/run.js';
import { currentSnapshot, getArtifact } from '../../agent/store/snapshots.js';
import { jobYaml, NOW, openTestAgent, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';
import { pdfText } from '../support/pdf-text.js';

/**
 * Recent results on the patient summary, pulled from a real FHIR server
 * (Medplum) and read back from the printed PDF: the official FHIR examples
 * (a blood pressure with both components, one with the diastolic absent, a
 * cancelled one, an uncategorised glucose with its range and H flag, an
 * oxygen saturation flagged N), moved into the windows; results outside
 * their window left off; and the three different statements for no results,
 * results not pulled, and results present.
 */
const EXAMPLES = path.dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const example = (file: string) => JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) as Record<string, unknown>;
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();

let his: { server: FhirTestServer; hospital: SyntheticHospital };
let first: { id: string; mrn: string | null };

/** An example, made the first patient's, at the given age, without the time fields it came with. */
function asOurs(file: string, id: string, hours: number): Resource {
  const o = example(file);
  delete o.effectivePeriod;
  delete o.effectiveDateTime;
  delete o.issued;
  return { ...o, id, subject: { reference: `Patient/${first.id}` }, effectiveDateTime: hoursAgo(hours) } as unknown as Resource;
}

beforeAll(async () => {
  his = await startHis({ patients: 3, now: NOW });
  const snap = { ward: { id: 'w', name: 'w' }, asOf: NOW.toISOString(), source: { id: 'h', system: 'h', location: null }, beds: his.hospital.wards[0]!.beds, patients: his.hospital.wards[0]!.patients, warnings: [] };
  first = patientsInBedOrder(snap)[0]!;
  await his.server.load([
    asOurs('Observation-blood-pressure.json', 'ex-bp', 1),
    asOurs('Observation-blood-pressure-dar.json', 'ex-bp-dar', 1.5),
    asOurs('Observation-blood-pressure-cancel.json', 'ex-bp-cancel', 2),
    asOurs('Observation-f001.json', 'ex-glucose', 50),
    asOurs('Observation-satO2.json', 'ex-sat', 3),
    // Outside their windows: a glucose of 80 h ago, a temperature of 30 h ago.
    asOurs('Observation-f001.json', 'ex-glucose-old', 80),
    asOurs('Observation-body-temperature.json', 'ex-temp-old', 30),
    // Social history is not a result.
    asOurs('Observation-alcohol-type.json', 'ex-alcohol', 4),
  ]);
}, 60_000);
afterAll(async () => {
  await his?.server.close();
});

async function summaryOf(datasets: string, now: Date): Promise<{ a: TestAgent; text: string }> {
  const dir = writeConfigDir(tmpDir(), { baseUrl: his.server.url, jobs: { 'ward-1': jobYaml('ward-1', `datasets: [${datasets}]\n`).replace('documents: [census, mar]', 'documents: [summary]') } });
  const a = openTestAgent(dir);
  const o = await runJob({ ...a, now: () => now }, 'ward-1', { trigger: 'manual' });
  expect(o.status, o.error ?? '').toBe('succeeded');
  const art = getArtifact(a.db, currentSnapshot(a.db, 'ward-1')!.id, `summary/${patientKey(first as never)}`)!;
  return { a, text: pdfText(a.blobs.get(art.sha256)).text };
}

describe('recent results on the patient summary', () => {
  it('prints the official examples inside their windows, as sent, and leaves out the rest', async () => {
    const { a, text } = await summaryOf('census, medications, allergies, results', NOW);
    a.db.close();
    expect(text).toContain('Laboratory results, last 72 h');
    // The uncategorised glucose: value, unit, the range and the source's H flag.
    expect(text).toMatch(/Glucose \[Moles\/volume\] in Blood 6\.3 mmol\/l 3\.1–6\.2 H/);
    // Both components of a blood pressure as one value, with the source's L flag; the one whose diastolic is absent printed as what it has.
    expect(text).toMatch(/Blood pressure systolic & diastolic 107\/60 mmHg \[L\]/);
    expect(text).toMatch(/Systolic blood pressure 107 mmHg/);
    // N (normal) is not a flag; a cancelled reading, an old one and social history are not printed.
    expect(text).toMatch(/Oxygen saturation in Arterial blood 95 % \(90–99\)( ·|$| \d)/);
    expect(text.match(/107\/60/g)).toHaveLength(1);
    expect(text).not.toMatch(/Body temperature 36\.5 C /);
    expect(text.match(/6\.3 mmol\/l/g)).toHaveLength(1);
    expect(text).not.toMatch(/alcohol/i);
    // The synthetic ward's own results are there too, newest vital signs first.
    expect(text).toContain('Vital signs, last 24 h');
    expect(text).toMatch(/Potassium [\d.]+ mmol\/L 3\.5–5\.1/);
  }, 60_000);

  it('says "no results in the window" and "results not pulled" differently', async () => {
    // Four days later: everything is older than its window.
    const later = await summaryOf('census, medications, allergies, results', new Date(NOW.getTime() + 4 * 86_400_000));
    later.a.db.close();
    expect(later.text).toContain('No laboratory results in the last 72 h.');
    expect(later.text).toContain('No vital signs recorded in the last 24 h.');
    expect(later.text).not.toContain('RESULTS NOT PULLED');
    const without = await summaryOf('census, medications, allergies', NOW);
    without.a.db.close();
    expect(without.text).toContain('RESULTS NOT PULLED');
    expect(without.text).not.toContain('No laboratory results');
  }, 60_000);
});
