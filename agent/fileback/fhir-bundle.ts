import type { Entry } from '../store/downtime-entries.js';
import { entryIdentifier, ifNoneExist, partUuid } from './identifiers.js';
import { BLOOD_PRESSURE_PANEL, vitalValues } from './vital-codes.js';

/**
 * One FHIR R4 transaction Bundle per patient, from the entries recorded for
 * her during a downtime (issue #25). Each resource carries an identifier
 * made from its entry's uid and is a conditional create (ifNoneExist), and
 * each entry's Provenance is written to an id made from the same uid (PUT:
 * Provenance has no identifier), so sending the bundle again, after a crash
 * or a timeout, creates nothing twice. Moves, discharges and admissions are
 * not FHIR resources a HIS takes this way: they go by HL7 ADT or by hand.
 */

/** The patient as the HIS knows her: its Patient id, and her MRN to be sure. */
export interface PatientRef {
  id: string;
  mrn: string | null;
  mrnSystem?: string;
}

export const RECORDED_EXTENSION = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-MedicationAdministration.recorded';

const loinc = (code: string, display: string) => ({ coding: [{ system: 'http://loinc.org', code, display }], text: display });
const vitalCategory = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }] }];
const quantity = (value: number, unit: string, ucum: string) => ({ value, unit, system: 'http://unitsofmeasure.org', code: ucum });

interface BundleEntry {
  fullUrl: string;
  resource: Record<string, unknown>;
  request: { method: 'POST' | 'PUT'; url: string; ifNoneExist?: string };
}

export interface EntryBundle {
  bundle: { resourceType: 'Bundle'; type: 'transaction'; entry: BundleEntry[] };
  /** Which box entry each bundle entry files, by index. */
  owners: number[];
}

function subject(p: PatientRef) {
  return { reference: `Patient/${p.id}`, ...(p.mrn ? { identifier: { ...(p.mrnSystem ? { system: p.mrnSystem } : {}), value: p.mrn } } : {}) };
}

/** The resources one entry becomes (Provenance apart). */
function resourcesOf(e: Entry, p: PatientRef): { part: string; type: string; resource: Record<string, unknown> }[] {
  const payload = e.payload;
  const performer = { display: e.enteredBy };
  const base = (part: string) => ({ identifier: [entryIdentifier(e.uid, part)], subject: subject(p) });
  switch (payload.kind) {
    case 'administration': {
      const given = payload.outcome === 'given';
      const reason = [payload.outcome === 'given' ? null : payload.outcome, payload.reason].filter(Boolean).join(': ');
      return [
        {
          part: '',
          type: 'MedicationAdministration',
          resource: {
            resourceType: 'MedicationAdministration',
            ...base(''),
            // When it was entered: the R5 element, carried to R4 as its standard extension.
            extension: [{ url: RECORDED_EXTENSION, valueDateTime: e.enteredAt }],
            status: given ? 'completed' : 'not-done',
            ...(given ? {} : { statusReason: [{ text: reason }] }),
            medicationCodeableConcept: { text: payload.drug },
            effectiveDateTime: e.occurredAt,
            performer: [{ actor: performer }],
            ...(payload.orderId ? { request: { reference: `MedicationRequest/${payload.orderId}` } } : {}),
            ...(payload.dose || payload.route ? { dosage: { ...(payload.dose ? { text: payload.dose } : {}), ...(payload.route ? { route: { text: payload.route } } : {}) } } : {}),
            ...(payload.prnReason ? { reasonCode: [{ text: payload.prnReason }] } : {}),
            note: [{ text: 'Entered during a downtime (Paperback)' }],
          },
        },
      ];
    }
    case 'vitals': {
      const obs = (part: string, code: Record<string, unknown>, value: Record<string, unknown>) => ({
        part,
        type: 'Observation',
        resource: { resourceType: 'Observation', ...base(part), status: 'final', category: vitalCategory, code, effectiveDateTime: e.occurredAt, issued: e.enteredAt, performer: [performer], ...value },
      });
      const measured = vitalValues(payload);
      const coded = (m: (typeof measured)[number]) => ({ code: loinc(m.code.loinc, m.code.display), valueQuantity: quantity(m.value, m.code.unit, m.code.ucum) });
      const bp = measured.filter((m) => m.code.field === 'systolic' || m.code.field === 'diastolic');
      const out = measured.filter((m) => !bp.includes(m)).map((m) => obs(m.code.loinc, coded(m).code, { valueQuantity: coded(m).valueQuantity }));
      // A blood pressure is one panel with its two numbers as components (both or neither: the store's rule).
      if (bp.length === 2) out.push(obs(BLOOD_PRESSURE_PANEL.loinc, loinc(BLOOD_PRESSURE_PANEL.loinc, BLOOD_PRESSURE_PANEL.display), { component: bp.map(coded) }));
      return out;
    }
    case 'note':
      return [
        {
          part: '',
          type: 'DocumentReference',
          resource: {
            resourceType: 'DocumentReference',
            identifier: [entryIdentifier(e.uid)],
            status: 'current',
            type: loinc('34746-8', 'Nurse Note'),
            subject: subject(p),
            date: e.enteredAt,
            author: [performer],
            context: { period: { start: e.occurredAt } },
            content: [{ attachment: { contentType: 'text/plain; charset=utf-8', data: Buffer.from(payload.text, 'utf8').toString('base64'), creation: e.occurredAt } }],
          },
        },
      ];
    default:
      return [];
  }
}

/** True for the entries a FHIR file-back carries; the others are for HL7 ADT or a person. */
export const fileableByFhir = (e: Entry) => e.kind === 'administration' || e.kind === 'vitals' || e.kind === 'note';

export function patientBundle(entries: Entry[], p: PatientRef): EntryBundle {
  const out: BundleEntry[] = [];
  const owners: number[] = [];
  for (const e of entries) {
    const made = resourcesOf(e, p).map((r) => ({ ...r, fullUrl: `urn:uuid:${partUuid(e.uid, `resource/${r.part}`)}` }));
    for (const r of made) {
      out.push({ fullUrl: r.fullUrl, resource: r.resource, request: { method: 'POST', url: r.type, ifNoneExist: ifNoneExist(e.uid, r.part) } });
      owners.push(e.id);
    }
    if (made.length === 0) continue;
    // Who did it and when, apart from when it was entered: the record of a downtime entry.
    const provenanceId = `pb-${partUuid(e.uid, 'provenance')}`;
    out.push({
      fullUrl: `urn:uuid:${partUuid(e.uid, 'provenance-url')}`,
      resource: {
        resourceType: 'Provenance',
        id: provenanceId,
        target: made.map((r) => ({ reference: r.fullUrl })),
        occurredDateTime: e.occurredAt,
        recorded: e.enteredAt,
        activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'CREATE', display: 'create' }], text: 'entered during downtime' },
        agent: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'enterer', display: 'Enterer' }] }, who: { display: e.enteredBy } }],
        ...(e.correctionReason ? { reason: [{ text: `correction: ${e.correctionReason}` }] } : {}),
      },
      request: { method: 'PUT', url: `Provenance/${provenanceId}` },
    });
    owners.push(e.id);
  }
  return { bundle: { resourceType: 'Bundle', type: 'transaction', entry: out }, owners };
}
