import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFhirServer, type FhirTestServer } from '../../agent/demo/fhir-server.js';
import { DATASETS, type WardSnapshot } from '../../agent/model/ward.js';
import { patientKey } from '../../agent/model/helpers.js';
import { renderSnapshotDocuments } from '../../agent/render/snapshot-documents.js';
import { createFhirSource } from '../../agent/sources/fhir/index.js';
import { REPO } from '../support/fixtures.js';
import { pdfText } from '../support/pdf-text.js';

/**
 * The official FHIR R4 examples (npm hl7.fhir.r4.examples, CC0) placed into a
 * ward on a real FHIR server (Medplum), pulled by the FHIR source and read
 * back from the printed PDF with pdftotext: what the paper says, compared
 * with what the FHIR says. Hand-made variants cover what the examples lack.
 */
const EXAMPLES = path.dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const example = (file: string) => JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) as Record<string, unknown> & { id: string; resourceType: string };

// 10:00 in Hà Nội on a Wednesday.
const NOW = new Date('2026-11-25T03:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();
const ref = (type: string, id: string) => ({ reference: `${type}/${id}` });
const bd = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'bd' }] };
const active = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] };

/** The ward: the examples' patients in beds, each with an in-progress encounter. */
function ward(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [{ resourceType: 'Location', id: 'ward-x', name: 'Ward X', status: 'active', physicalType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'wa' }] } }];
  for (const [i, pid] of ['pat1', 'example', 'mom', 'hand1'].entries()) {
    out.push({ resourceType: 'Location', id: `bed-${i + 1}`, name: `X-${i + 1}`, status: 'active', partOf: ref('Location', 'ward-x'), physicalType: bd });
    out.push({ resourceType: 'Encounter', id: `enc-${pid}`, status: 'in-progress', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' }, subject: ref('Patient', pid), location: [{ location: ref('Location', `bed-${i + 1}`), status: 'active' }] });
  }
  return out;
}

/** Every example MedicationRequest and MedicationAdministration of pat1, doses moved into the last 24 hours. */
function examplesOfPat1(): Record<string, unknown>[] {
  const files = fs.readdirSync(EXAMPLES).filter((f) => /^(MedicationRequest|MedicationAdministration)-.*\.json$/.test(f));
  const out: Record<string, unknown>[] = [];
  let h = 1;
  for (const f of files) {
    const r = example(f) as Record<string, unknown> & { subject?: { reference?: string }; effectivePeriod?: { start?: string; end?: string } };
    if (r.subject?.reference !== 'Patient/pat1') continue;
    if (r.resourceType === 'MedicationAdministration') {
      // Same record, same offset style, within the window the MAR reads.
      if (r.effectivePeriod) r.effectivePeriod = { start: hoursAgo(h++), ...(r.effectivePeriod.end ? { end: hoursAgo(0.5) } : {}) };
      else r.effectiveDateTime = hoursAgo(h++);
    }
    out.push(r);
  }
  return out;
}

/** What the examples lack, made by hand. */
function awkward(): Record<string, unknown>[] {
  const subject = ref('Patient', 'hand1');
  const mr = (id: string, extra: Record<string, unknown>, dosage: Record<string, unknown> = { timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: 1, unit: 'g' } }] }) => ({
    resourceType: 'MedicationRequest', id, status: 'active', intent: 'order', subject, dosageInstruction: [dosage], ...extra,
  });
  return [
    // Born in December 1974 (no day), deceased on the record; her citizen ID listed first must never be her MRN.
    {
      resourceType: 'Patient', id: 'hand1', name: [{ use: 'official', family: 'Awkward', given: ['Hand'] }], birthDate: '1974-12', deceasedBoolean: true,
      identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'NI' }] }, system: 'urn:vn:cccd', value: '001074009999' }, { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, value: 'HAND-1' }],
    },
    // Coded only by ATC, under a brand name no name list knows: high-alert by class.
    mr('clexane', { medicationCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'B01AB05', display: 'Clexane 40' }] } }),
    ...(['confirmed', 'provisional', 'refuted', 'entered-in-error'] as const).map((v, i) => ({
      resourceType: 'Condition', id: `cond-${v}`, subject,
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: i % 2 ? 'problem-list-item' : 'encounter-diagnosis' }] }],
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: v }] },
      code: { text: ['Community-acquired pneumonia', 'Suspected tuberculosis', 'Refutoma', 'Erroritis'][i] },
    })),
    { resourceType: 'Flag', id: 'flag-past', status: 'active', subject, period: { start: '2026-11-01', end: '2026-11-20' }, category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/flag-category', code: 'safety' }] }], code: { text: 'Contact isolation (lifted)' } },
    { resourceType: 'Flag', id: 'flag-now', status: 'active', subject, period: { start: '2026-11-20' }, category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/flag-category', code: 'clinical' }] }], code: { text: 'High fall risk' } },
    mr('dnp', { doNotPerform: true, medicationCodeableConcept: { text: 'Ibuprofen 400 mg tablet' } }),
    mr('proposal', { intent: 'proposal', medicationCodeableConcept: { text: 'Proposalmycin 1 g' } }),
    mr('plan', { intent: 'plan', medicationCodeableConcept: { text: 'Planazepam 5 mg' } }),
    mr('stopped', { status: 'stopped', medicationCodeableConcept: { text: 'Stoppedicillin 1 g' } }),
    mr('draft', { status: 'draft', medicationCodeableConcept: { text: 'Draftarone 2 mg' } }),
    mr('cef', { medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '2180', display: 'Cefazolin' }] } }),
    mr('mondays', { medicationCodeableConcept: { text: 'Methotrexate 10 mg tablet' } }, { timing: { repeat: { frequency: 1, period: 1, periodUnit: 'wk', dayOfWeek: ['mon'] } }, doseAndRate: [{ doseQuantity: { value: 10, unit: 'mg' } }] }),
    mr('kcl', { medicationCodeableConcept: { text: 'Potassium chloride 40 mmol in 1 L' } }, { timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } }, doseAndRate: [{ rateQuantity: { value: 100, unit: 'mL/h' } }], maxDosePerPeriod: { numerator: { value: 80, unit: 'mmol' }, denominator: { value: 1, unit: 'd' } } }),
    // Shares a class with her sulfonamide allergy; paracetamol shares none with her aspirin allergy.
    mr('cotrim', { medicationCodeableConcept: { text: 'Co-trimoxazole 960 mg tablet' } }),
    mr('pcm', { medicationCodeableConcept: { text: 'Paracetamol 500 mg tablet' } }),
    { resourceType: 'AllergyIntolerance', id: 'asa', patient: subject, clinicalStatus: active, criticality: 'high', code: { text: 'Aspirin' } },
    // A coding-only order for Peter (penicillin allergy, unconfirmed): found by its ATC code.
    { resourceType: 'MedicationRequest', id: 'amox', status: 'active', intent: 'order', subject: ref('Patient', 'example'), medicationCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'J01CA04', display: 'Amoxil 500' }] }, dosageInstruction: [{ timing: { repeat: { frequency: 3, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: 500, unit: 'mg' } }] }] },
    // Weighed 20 days ago (old for a dose by weight), measured yesterday.
    { resourceType: 'Observation', id: 'wt', status: 'final', subject, code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] }, effectiveDateTime: '2026-11-05T08:00:00+07:00', valueQuantity: { value: 70, unit: 'kg', code: 'kg' } },
    { resourceType: 'Observation', id: 'ht', status: 'final', subject, code: { coding: [{ system: 'http://loinc.org', code: '8302-2' }] }, effectiveDateTime: '2026-11-24T08:00:00+07:00', valueQuantity: { value: 1.75, unit: 'm', code: 'm' } },
    // Given 20 hours ago at UTC−10: later than a dose given at 06:00Z, though the string sorts before it.
    { resourceType: 'MedicationAdministration', id: 'cef-late', status: 'completed', subject, request: ref('MedicationRequest', 'cef'), medicationCodeableConcept: { text: 'Cefazolin' }, effectiveDateTime: '2026-11-24T21:00:00-10:00' },
    { resourceType: 'MedicationAdministration', id: 'cef-early', status: 'completed', subject, request: ref('MedicationRequest', 'cef'), medicationCodeableConcept: { text: 'Cefazolin' }, effectiveDateTime: '2026-11-24T09:00:00Z' },
    { resourceType: 'MedicationAdministration', id: 'cef-err', status: 'entered-in-error', subject, request: ref('MedicationRequest', 'cef'), medicationCodeableConcept: { text: 'Cefazolin' }, effectiveDateTime: hoursAgo(0.2) },
    { resourceType: 'MedicationAdministration', id: 'kcl-skip', status: 'not-done', subject, request: ref('MedicationRequest', 'kcl'), medicationCodeableConcept: { text: 'Potassium chloride' }, statusReason: [{ text: 'patient vomiting' }], effectiveDateTime: hoursAgo(2) },
    // Refuted, with the standard code in the second coding.
    { resourceType: 'AllergyIntolerance', id: 'refuted', patient: subject, clinicalStatus: active, verificationStatus: { coding: [{ system: 'urn:local', code: 'R' }, { system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'refuted' }] }, code: { text: 'Refutedine' } },
    { resourceType: 'AllergyIntolerance', id: 'sulfa', patient: subject, clinicalStatus: active, criticality: 'low', code: { text: 'Sulfamethoxazole' } },
  ];
}

let server: FhirTestServer;
let snap: WardSnapshot;
const texts = new Map<string, string>();
const pagesOf = new Map<string, string[]>();

beforeAll(async () => {
  server = await startFhirServer({});
  const allergies = ['AllergyIntolerance-example.json', 'AllergyIntolerance-medication.json', 'AllergyIntolerance-nkla.json', 'AllergyIntolerance-nkda.json'].map(example);
  await server.load([...ward(), example('Patient-pat1.json'), example('Patient-example.json'), example('Patient-mom.json'), example('Medication-med0316.json'), ...examplesOfPat1(), ...allergies, ...awkward()] as never[]);
  const source = createFhirSource({ id: 'his', kind: 'fhir', name: 'Examples', baseUrl: server.url, auth: { kind: 'none' }, timeoutMs: 5000, maxResponseBytes: 20e6, maxConcurrency: 2, retries: 0, pageSize: 200, censusShrinkWarning: 0.3, fullPullEveryMinutes: 0 } as never, { configDir: '/tmp', backoffMs: 10 });
  ({ snapshot: snap } = await source.pull({ ward: { id: 'ward-x', name: 'Ward X' }, location: 'Location/ward-x', datasets: DATASETS, now: NOW, signal: AbortSignal.timeout(60_000), nameOrder: 'given-first' }));
  for (const language of ['en', 'vi'] as const) {
    const docs = await renderSnapshotDocuments(snap, { documents: ['census', 'allergies', 'mar', 'summary'], language, timeZone: 'Asia/Ho_Chi_Minh', hospital: 'Test', templatesDir: path.join(REPO, 'templates') }, { renderedAt: NOW });
    for (const d of docs) {
      if (!d.content || d.meta.mediaType !== 'application/pdf') continue;
      const { text, pages } = pdfText(d.content, process.env.PB_KEEP_PDF);
      texts.set(`${language}:${d.meta.address}`, text);
      pagesOf.set(`${language}:${d.meta.address}`, pages);
    }
  }
}, 120_000);
afterAll(async () => {
  await server?.close();
});

const doc = (address: string, lang = 'en') => {
  const t = texts.get(`${lang}:${address}`);
  if (!t) throw new Error(`no document ${lang}:${address} (have ${[...texts.keys()].join(', ')})`);
  return t;
};
const key = (pid: string) => patientKey(snap.patients.find((p) => p.id === pid)!);
/** A row of the MAR: from its drug's name to the next row's start (rows print in reading order). */
function row(text: string, start: string, next: string | null): string {
  const i = text.indexOf(start);
  expect(i, `"${start}" is on the sheet`).toBeGreaterThanOrEqual(0);
  const j = next ? text.indexOf(next, i + start.length) : -1;
  return text.slice(i, j > i ? j : i + 400);
}

describe('FHIR R4 examples on paper (pdftotext)', () => {
  it('prints every dosage instruction of a sliding-scale order, numbered, in sequence order', () => {
    const mar = doc(`mar/${key('pat1')}`);
    // medrx0321: sequence 1 (20 U before dinner) first, then the two of sequence 2, in the order sent.
    const a = mar.indexOf('Instruction 1 of 3');
    const b = mar.indexOf('Instruction 2 of 3');
    const c = mar.indexOf('Instruction 3 of 3');
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(a);
    expect(c).toBeGreaterThan(b);
    expect(mar.slice(a, b)).toContain('20 U');
    expect(mar.slice(a, b)).toContain('20 units before dinner');
    expect(mar.slice(b, c)).toContain('10 U');
    expect(mar.slice(b, c)).toContain('10 min before breakfast');
    expect(mar.slice(c, c + 300)).toContain('15 U');
    // "once a day" beside "before lunch" gets no 08:00 box: the prescriber's words name the time.
    expect(row(mar, '15 units before lunch', 'Instruction')).toContain('times not given: check the order');
  });

  it('shows no order that is not in force, and no proposal or plan', () => {
    const all = [...texts.entries()].filter(([k]) => k.startsWith('en:')).map(([, v]) => v).join(' ');
    for (const gone of ['Levothyroxine', 'Dopamine', 'Proposalmycin', 'Planazepam', 'Stoppedicillin', 'Draftarone']) expect(all).not.toContain(gone);
  });

  it('prints a do-not-perform order as DO NOT GIVE, with no due time', () => {
    const mar = doc(`mar/${key('hand1')}`);
    const r = row(mar, 'DO NOT GIVE', 'Methotrexate');
    expect(r).toContain('Ibuprofen 400 mg tablet');
    expect(r).not.toMatch(/\b08:00\b|\b20:00\b/);
    expect(doc(`summary/${key('hand1')}`)).toMatch(/DO NOT GIVE[^]*Ibuprofen/);
  });

  it('gives on-hold orders no due slot and says so, and never turns "Mondays" into every day', () => {
    const mar = doc(`mar/${key('pat1')}`);
    // medrx0335: on hold, 09:00 daily in the order.
    const held = row(mar, 'Apply to affected areas at 9am daily', 'DOWNTIME COPY');
    expect(held).toContain('ON HOLD: no doses due');
    expect(held).toContain('at 09:00');
    expect(held.replace('at 09:00', '')).not.toMatch(/\b09:00\b/);
    const hand = doc(`mar/${key('hand1')}`);
    const mondays = row(hand, 'Methotrexate 10 mg tablet', 'Potassium');
    expect(mondays).toContain('on Mon only');
    // 25 Nov 2026 is a Wednesday: no Monday in the next 24 h.
    expect(mondays).toContain('not due in these 24 h');
    expect(mondays).not.toContain('every day');
  });

  it('words frequency-only, coded and event timings, and gives standard times as standard times', () => {
    const mar = doc(`mar/${key('pat1')}`);
    // medrx0311: QD and nothing else → once a day at the ward's standard 08:00, marked as such.
    const qd = row(mar, 'One tablet daily', 'Instruction');
    expect(qd).toContain('once a day');
    expect(qd).toContain('ward standard times');
    // medrx0327: three times a week, no days given: not a daily dose, no box.
    const patch = row(mar, 'apply one patch three times per week', 'Mometasone');
    expect(patch).toContain('3 times a week');
    expect(patch).toContain('not every day: check the order');
    expect(patch).not.toContain('times a day');
    // medrx0309: a course that ended in 2016 is not due.
    expect(row(mar, '1000 mg/m2 orally twice daily', '⚠')).toContain('course ended: not due');
    // medrx0332: one dose.
    expect(row(mar, 'Administer 500mg IM as a single dose', '⚠')).toContain('single dose');
    // medrx0333: in the morning.
    expect(row(mar, 'one tablet one time daily in the morning', '⚠')).toContain('in the morning');
  });

  it('prints dose ranges, infusion rates and dose limits', () => {
    const hand = doc(`mar/${key('hand1')}`);
    const kcl = row(hand, 'Potassium chloride 40 mmol', 'Scheduled');
    expect(kcl).toContain('rate 100 mL/h');
    expect(kcl).toContain('max 80 mmol / 1 d');
    // medrx0310: 1–2 tablets.
    expect(doc(`mar/${key('pat1')}`)).toMatch(/1–2 TAB/);
  });

  it('takes "last given" from completed doses by instant, ignores retracted ones, and says why a dose was not given', () => {
    const hand = doc(`mar/${key('hand1')}`);
    const cef = row(hand, 'Cefazolin', 'DO NOT GIVE');
    // 21:00 at UTC−10 is 07:00Z on the 25th, 14:00 in Hà Nội; the 09:00Z dose is older.
    expect(cef).toContain('25/11/2026 14:00');
    expect(cef).not.toContain('not given');
    expect(row(hand, 'Potassium chloride 40 mmol', 'Scheduled')).toMatch(/not given 25\/11\/2026 08:00 \(GMT\+7\): patient vomiting/);
    const mar = doc(`mar/${key('pat1')}`);
    // medadmin0301 runs (in-progress) against medrx0318.
    expect(row(mar, '500mg IV q6h x 3 days', '⚠')).toContain('running since');
    // Doses of orders since completed stay visible.
    expect(mar).toContain('Doses given in the last 24 h whose order is no longer active');
  });

  it('hides refuted allergies, marks unconfirmed and high-risk ones, and never reads NKDA or NKLA as an allergy', () => {
    const hand = doc(`mar/${key('hand1')}`);
    expect(hand).not.toContain('Refutedine');
    expect(hand).toContain('Sulfamethoxazole');
    const ex = doc(`mar/${key('example')}`);
    expect(ex).toMatch(/HIGH RISK: Cashew nuts/);
    expect(ex).toMatch(/Penicillin G[^;]*\[unconfirmed\]/);
    // Category and criticality as the source gave them.
    expect(ex).toMatch(/Cashew nuts \(Anaphylactic reaction, Urticaria\) — food/);
    expect(hand).toMatch(/Sulfamethoxazole — low criticality/);
    expect(ex).not.toContain('No Known Latex Allergy');
    const mom = doc(`mar/${key('mom')}`);
    expect(mom).toContain('No known drug allergies recorded by the source; other allergies NOT RECORDED');
    const list = doc('allergies');
    expect(list).toMatch(/no known drug allergy; others not recorded/);
    expect(list).toMatch(/HIGH RISK: Cashew nuts/);
    const census = doc('census');
    expect(census).toMatch(/HIGH RISK: Cashew nuts/);
  });

  it('repeats allergies and code status in the band of every page of a MAR and summary', () => {
    const mar = pagesOf.get(`en:mar/${key('pat1')}`)!;
    expect(mar.length).toBeGreaterThan(3);
    for (const page of mar) expect(page).toContain('⚠ ALLERGIES: not recorded · Code status: unknown');
    for (const page of pagesOf.get(`en:summary/${key('example')}`)!) expect(page).toMatch(/HIGH RISK: Cashew nuts/);
    for (const page of pagesOf.get(`vi:mar/${key('mom')}`)!) expect(page).toContain('không dị ứng thuốc đã biết; dị ứng khác chưa ghi nhận');
  });

  it('flags an order whose drug shares a class with a recorded allergy, by name or by ATC code, and not one that does not', () => {
    const hand = doc(`mar/${key('hand1')}`);
    expect(row(hand, 'CHECK ALLERGY: Sulfamethoxazole (sulfonamides)', 'Methotrexate')).toContain('Co-trimoxazole 960 mg tablet');
    expect(row(hand, 'Paracetamol 500 mg tablet', 'Potassium')).not.toContain('CHECK ALLERGY');
    expect(doc(`mar/${key('example')}`)).toMatch(/CHECK ALLERGY: Penicillin G \(penicillins and other beta-lactams\) Amoxil 500/);
    expect(doc(`summary/${key('hand1')}`)).toContain('CHECK ALLERGY: Sulfamethoxazole');
    expect(doc(`mar/${key('hand1')}`, 'vi')).toContain('KIỂM TRA DỊ ỨNG: Sulfamethoxazole (sulfonamid)');
  });

  it('lasts a shift: weight and height in every band (an old weight says so), record rows under each PRN, rows for handwritten orders', () => {
    for (const page of pagesOf.get(`en:mar/${key('hand1')}`)!) {
      expect(page).toContain('Weight 70 kg (OLD, measured 05/11/2026)');
      expect(page).toContain('Height 175 cm (24/11/2026)');
    }
    const mar = doc(`mar/${key('pat1')}`);
    expect(mar.split('↳ Lorazepam').length - 1).toBe(3);
    expect(mar.split('Order written during the downtime:').length - 1).toBe(3);
  });

  it('shrinks a long ward or hospital name to fit rather than cut it', async () => {
    const long = 'Khoa Hồi sức tích cực và Chống độc — Trung tâm Cấp cứu A9 — Intensive Care and Poison Control, Emergency Centre A9';
    const docs = await renderSnapshotDocuments({ ...snap, ward: { id: 'ward-x', name: long } }, { documents: ['census'], language: 'en', timeZone: 'Asia/Ho_Chi_Minh', hospital: 'Bệnh viện Hữu nghị Việt Đức — Viet Duc University Hospital, Hà Nội', templatesDir: path.join(REPO, 'templates') }, { renderedAt: NOW });
    const { pages } = pdfText(docs.find((d) => d.meta.address === 'census')!.content!);
    for (const page of pages) {
      expect(page).toContain(`${long} ·`);
      expect(page).toContain('Bệnh viện Hữu nghị Việt Đức — Viet Duc University Hospital, Hà Nội');
    }
  });

  it('never prints a national ID or SSN as the MRN or in the barcode', () => {
    // Eve Everywoman's only identifier is a US SSN.
    const mom = doc(`mar/${key('mom')}`);
    expect(mom).not.toContain('444222222');
    expect(mom).toContain('Eve Everywoman MRN unknown');
    expect(doc('census')).not.toContain('444222222');
    const hand = doc(`mar/${key('hand1')}`);
    expect(hand).toContain('MRN HAND-1');
    expect(hand).not.toContain('001074009999');
  });

  it('prints a partial birth date as given with an approximate age, and marks a deceased patient', () => {
    expect(doc(`mar/${key('hand1')}`)).toContain('Hand Awkward — † DECEASED MRN HAND-1 · 12/1974');
    expect(doc('census')).toMatch(/Hand Awkward † DECEASED HAND-1 ~51 \//);
  });

  it('lists current diagnoses from the encounter and the problem list, marks provisional ones, drops refuted and retracted ones', () => {
    const summary = doc(`summary/${key('hand1')}`);
    expect(summary).toContain('Community-acquired pneumonia');
    expect(summary).toContain('Suspected tuberculosis [provisional]');
    expect(summary).not.toContain('Refutoma');
    expect(summary).not.toContain('Erroritis');
  });

  it('shows only flags within their period, and finds high-alert drugs by ATC class', () => {
    const census = doc('census');
    expect(census).toContain('High fall risk');
    expect(census).not.toContain('Contact isolation (lifted)');
    expect(row(doc(`mar/${key('hand1')}`), 'Clexane 40', 'Co-trimoxazole')).not.toBe('');
    expect(doc(`mar/${key('hand1')}`)).toMatch(/HIGH-ALERT Clexane 40/);
  });

  it('prints a List census with an unreadable entry, naming the entry instead of failing the ward', async () => {
    await server.load([{ resourceType: 'List', id: 'unit-x', status: 'current', mode: 'working', entry: [{ item: ref('Patient', 'pat1') }, { item: ref('Patient', 'hand1') }, { item: ref('Patient', 'ghost') }] }] as never[]);
    const source = createFhirSource({ id: 'his', kind: 'fhir', name: 'Examples', baseUrl: server.url, auth: { kind: 'none' }, timeoutMs: 5000, maxResponseBytes: 20e6, maxConcurrency: 2, retries: 0, pageSize: 200, censusShrinkWarning: 0.3, fullPullEveryMinutes: 0 } as never, { configDir: '/tmp', backoffMs: 10 });
    const { snapshot } = await source.pull({ ward: { id: 'ward-x', name: 'Ward X' }, location: 'List/unit-x', datasets: DATASETS, now: NOW, signal: AbortSignal.timeout(60_000), nameOrder: 'given-first' });
    expect(snapshot.patients.map((p) => p.id).sort()).toEqual(['hand1', 'pat1']);
    const docs = await renderSnapshotDocuments(snapshot, { documents: ['census'], language: 'en', timeZone: 'Asia/Ho_Chi_Minh', hospital: 'Test', templatesDir: path.join(REPO, 'templates') }, { renderedAt: NOW });
    const census = pdfText(docs.find((d) => d.meta.address === 'census')!.content!).text;
    expect(census).toContain("The ward's patient list names Patient/ghost, which the HIS could not return: that patient is NOT on this census");
    expect(census).toContain('Duck Donald');
    expect(census).toContain('Hand Awkward');
  });

  it('says none of its own English on a Vietnamese sheet', () => {
    for (const [k, text] of texts) {
      if (!k.startsWith('vi:')) continue;
      for (const ours of ['DO NOT GIVE', 'ON HOLD', 'HIGH RISK', 'HIGH-ALERT', 'Instruction 1 of', 'once a day', 'times a week', 'ward standard times', 'not due', 'running since', 'unconfirmed', 'NKA', 'MRN', 'Code status', 'CHECK ALLERGY', 'Weight', 'Height', 'Order written', 'DECEASED', 'provisional', 'low criticality']) {
        expect(text, `${k} says "${ours}"`).not.toContain(ours);
      }
    }
    expect(doc(`mar/${key('hand1')}`, 'vi')).toContain('KHÔNG ĐƯỢC DÙNG');
    expect(doc(`mar/${key('pat1')}`, 'vi')).toContain('Chỉ định 1/3');
  });
});
