import type { Resource } from '@medplum/fhirtypes';
import type { SyntheticHospital, SyntheticWard } from './generator.js';
import type { Patient as ModelPatient } from '../model/ward.js';
import { VI_FAMILY } from './catalog.js';
import { LABS, VITALS } from './results.js';

export const MRN_SYSTEM = 'urn:oid:1.2.704.0.1.1';
export const NO_KNOWN_ALLERGY = { system: 'http://snomed.info/sct', code: '716186003', display: 'No known allergy' };

const ref = (type: string, id: string) => ({ reference: `${type}/${id}` });
const slug = (s: string) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/gi, 'd').replace(/[^A-Za-z0-9]+/g, '-').toLowerCase();

function practitionerId(name: string): string {
  return `pr-${slug(name)}`;
}

function splitName(name: string): { family: string; given: string[] } {
  const parts = name.split(' ');
  // Vietnamese names are written family-first; the synthetic English names given-first.
  return VI_FAMILY.includes(parts[0]!) ? { family: parts[0]!, given: parts.slice(1) } : { family: parts.at(-1)!, given: parts.slice(0, -1) };
}

/** "40 mg" → {value: 40, unit: "mg"}; complex doses ("per sliding scale") stay text only, as in real orders. */
function simpleDose(dose: string | null): { value: number; unit: string } | null {
  const m = dose ? /^(\d+(?:\.\d+)?)\s+([A-Za-z/]+)$/.exec(dose) : null;
  return m ? { value: Number(m[1]), unit: m[2]! } : null;
}

/**
 * The order's timing as structure, the way an EHR that codes its orders sends it: the sheet then words it in
 * its own language. Only a frequency the demo cannot structure travels as text.
 */
function timing(o: ModelPatient['orders']['items'][number]) {
  const t = o.timing;
  const times = o.scheduledTimes.map((x) => (x === '24:00' ? '00:00:00' : `${x}:00`));
  const bounds = o.start || o.end ? { boundsPeriod: { ...(o.start ? { start: o.start } : {}), ...(o.end ? { end: o.end } : {}) } } : {};
  if (!t) return o.frequency ? { code: { text: o.frequency } } : undefined;
  return {
    repeat: {
      ...(t.frequency !== null ? { frequency: t.frequency } : {}),
      ...(t.period !== null ? { period: t.period } : {}),
      ...(t.periodUnit ? { periodUnit: t.periodUnit } : {}),
      ...(t.when.length ? { when: t.when as 'NIGHT'[] } : {}),
      ...(times.length ? { timeOfDay: times } : {}),
      ...bounds,
    },
  };
}

/** Emit one ward as FHIR R4 resources, shaped the way EHR sandboxes return them. */
export function wardToFhir(ward: SyntheticWard): Resource[] {
  const out: Resource[] = [];
  const practitioners = new Set<string>();
  const practitioner = (name: string) => {
    const id = practitionerId(name);
    if (!practitioners.has(id)) {
      practitioners.add(id);
      out.push({ resourceType: 'Practitioner', id, name: [{ text: name }] });
    }
    return { ...ref('Practitioner', id), display: name };
  };
  out.push({ resourceType: 'Location', id: ward.id, name: ward.name, status: 'active', mode: 'instance', physicalType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'wa' }] } });
  const rooms = new Set<string>();
  for (const bed of ward.beds) {
    if (!rooms.has(bed.roomId)) {
      rooms.add(bed.roomId);
      out.push({ resourceType: 'Location', id: bed.roomId, name: `Phòng ${bed.room}`, status: 'active', partOf: ref('Location', ward.id), physicalType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'ro' }] } });
    }
    out.push({ resourceType: 'Location', id: bed.id, name: bed.label, status: 'active', partOf: ref('Location', bed.roomId), physicalType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'bd' }] } });
  }
  for (const p of ward.patients) {
    const encId = ward.encounterIds.get(p.id)!;
    const subject = ref('Patient', p.id);
    const encounter = ref('Encounter', encId);
    out.push({
      resourceType: 'Patient',
      id: p.id,
      identifier: p.mrn ? [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: MRN_SYSTEM, value: p.mrn }] : [],
      name: p.name ? [{ use: 'official', text: p.name, ...splitName(p.name) }] : [],
      ...(p.birthDate ? { birthDate: p.birthDate } : {}),
      ...(p.sex ? { gender: p.sex } : {}),
    });
    out.push({
      resourceType: 'Encounter',
      id: encId,
      status: 'in-progress',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP', display: 'inpatient encounter' },
      subject,
      ...(p.attending ? { participant: [{ type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'ATND' }] }], individual: practitioner(p.attending) }] } : {}),
      ...(p.admittedAt ? { period: { start: p.admittedAt } } : {}),
      ...(p.admittingDiagnosis ? { reasonCode: [{ text: p.admittingDiagnosis }] } : {}),
      location: p.bedId ? [{ location: { ...ref('Location', p.bedId) }, status: 'active' }] : [],
    });
    for (const [i, d] of p.diagnoses.items.entries()) {
      out.push({ resourceType: 'Condition', id: `cond-${p.id}-${i + 1}`, subject, encounter, category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }], clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: { text: d.text, ...(d.code ? { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: d.code }] } : {}) } });
    }
    if (p.allergies.status === 'none-known') {
      out.push({ resourceType: 'AllergyIntolerance', id: `al-${p.id}-nka`, patient: subject, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] }, code: { coding: [NO_KNOWN_ALLERGY], text: 'No known allergies' } });
    }
    for (const [i, a] of p.allergies.items.entries()) {
      out.push({
        resourceType: 'AllergyIntolerance',
        id: `al-${p.id}-${i + 1}`,
        patient: subject,
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
        ...(a.criticality ? { criticality: a.criticality } : {}),
        ...(a.category ? { category: [a.category as 'medication'] } : {}),
        code: { text: a.substance },
        ...(a.reaction ? { reaction: [{ manifestation: [{ text: a.reaction }], ...(a.severity ? { severity: a.severity as 'mild' } : {}) }] } : {}),
      });
    }
    const flag = (id: string, category: string, text: string) =>
      out.push({ resourceType: 'Flag', id, status: 'active', subject, category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/flag-category', code: category }] }], code: { text } });
    if (p.codeStatus) flag(`flag-${p.id}-code`, 'advance-directive', p.codeStatus);
    p.isolation.forEach((t, i) => flag(`flag-${p.id}-iso-${i}`, 'safety', t));
    p.flags.forEach((f, i) => flag(`flag-${p.id}-f-${i}`, 'clinical', f.text));
    if (p.weightKg !== null) {
      out.push({ resourceType: 'Observation', id: `wt-${p.id}`, status: 'final', subject, category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }], code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Body weight' }] }, effectiveDateTime: p.admittedAt ?? undefined, valueQuantity: { value: p.weightKg, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' } });
    }
    // Recent results as the laboratory and the nurses' charting would send them.
    for (const [i, x] of (p.results?.items ?? []).entries()) {
      const lab = LABS.find((l) => l.name === x.name);
      const vital = VITALS.find((v) => v.name === x.name);
      const category = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: x.category }] };
      const q = (value: number, unit: string) => ({ value, unit, system: 'http://unitsofmeasure.org', code: unit });
      const obs: Resource = { resourceType: 'Observation', id: `res-${p.id}-${i}`, status: 'final', subject, category: [category], effectiveDateTime: x.at, code: { text: x.name } };
      if (x.name === 'Blood pressure') {
        const [sys, dia] = x.value.split('/').map(Number);
        Object.assign(obs, { code: { coding: [{ system: 'http://loinc.org', code: '85354-9', display: 'Blood pressure panel' }], text: x.name }, component: [{ code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: q(sys!, 'mm[Hg]') }, { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: q(dia!, 'mm[Hg]') }] });
      } else {
        const loinc = lab?.loinc ?? vital?.loinc;
        Object.assign(obs, { code: { ...(loinc ? { coding: [{ system: 'http://loinc.org', code: loinc, display: x.name }] } : {}), text: x.name }, valueQuantity: q(Number(x.value), x.unit ?? '') });
        if (lab) Object.assign(obs, { referenceRange: [{ low: q(lab.low, lab.unit), high: q(lab.high, lab.unit) }] });
        if (x.flag) Object.assign(obs, { interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: x.flag }] }] });
      }
      out.push(obs);
    }
    for (const [i, o] of p.orders.items.entries()) {
      // Vary the shape the way real servers do: a plain concept, a contained Medication, or a reference.
      const shape = i % 3;
      const medId = `med-${o.id}`;
      const mr: Resource = {
        resourceType: 'MedicationRequest',
        id: o.id,
        status: o.status,
        intent: 'order',
        subject,
        encounter,
        ...(o.start ? { authoredOn: o.start } : {}),
        ...(o.orderedBy ? { requester: practitioner(o.orderedBy) } : {}),
        dosageInstruction: [
          {
            ...(o.dose ? { text: o.dose } : {}),
            ...(timing(o) ? { timing: timing(o) } : {}),
            ...(o.prn ? (o.prnReason ? { asNeededCodeableConcept: { text: o.prnReason } } : { asNeededBoolean: true }) : {}),
            ...(o.route ? { route: { text: o.route } } : {}),
            ...(simpleDose(o.dose) ? { doseAndRate: [{ doseQuantity: simpleDose(o.dose) }] } : {}),
            ...(o.instructions ? { patientInstruction: o.instructions } : {}),
          },
        ],
      } as Resource;
      if (shape === 0) Object.assign(mr, { medicationCodeableConcept: { text: o.drug } });
      else if (shape === 1) Object.assign(mr, { contained: [{ resourceType: 'Medication', id: 'm1', code: { text: o.drug } }], medicationReference: { reference: '#m1' } });
      else {
        out.push({ resourceType: 'Medication', id: medId, code: { text: o.drug } });
        Object.assign(mr, { medicationReference: ref('Medication', medId) });
      }
      out.push(mr);
    }
    for (const [i, a] of p.administrations.items.entries()) {
      out.push({
        resourceType: 'MedicationAdministration',
        id: `ma-${p.id}-${i + 1}`,
        status: a.status === 'unknown' ? 'unknown' : a.status,
        subject,
        context: encounter,
        medicationCodeableConcept: { text: a.drug },
        effectiveDateTime: a.at,
        ...(a.by ? { performer: [{ actor: { display: a.by } }] } : {}),
        ...(a.orderId ? { request: ref('MedicationRequest', a.orderId) } : {}),
        ...(a.dose ? { dosage: { text: a.dose } } : {}),
      } as Resource);
    }
  }
  return out;
}

export function hospitalToFhir(h: SyntheticHospital): Resource[] {
  return h.wards.flatMap(wardToFhir);
}
