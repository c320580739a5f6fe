import type { Administration, Allergy, AllergyList, MedicationOrder, Patient, SafetyFlag } from '../../model/ward.js';
import { isHighAlertDrug } from '../../model/high-alert.js';
import type {
  CodeableConcept,
  FhirAllergy,
  FhirCondition,
  FhirEncounter,
  FhirFlag,
  FhirMedicationAdministration,
  FhirMedicationRequest,
  FhirObservation,
  FhirPatient,
  FhirPractitioner,
} from './schemas.js';

/** SNOMED codes that positively state "no known allergy". */
const NO_KNOWN_ALLERGY_CODES = new Set(['716186003', '409137002', '428607008', '429625007', '428197003']);
const HIGH_ALERT_EXTENSION = 'http://paperback.example/fhir/StructureDefinition/high-alert';

export const conceptText = (c: CodeableConcept | undefined): string | null =>
  c?.text?.trim() || c?.coding?.find((x) => x.display)?.display?.trim() || c?.coding?.find((x) => x.code)?.code || null;

const refPatterns = new Map<string, RegExp>();
/** The id in a reference to a resource of this type ("Patient/1", "https://…/Patient/1/_history/2"), or null. */
export const refId = (ref: string | undefined, type: string): string | null => {
  if (!ref) return null;
  // Called for every reference of every resource of a pull: the pattern is built once per type.
  let re = refPatterns.get(type);
  if (!re) refPatterns.set(type, (re = new RegExp(`(?:^|/)${type}/([^/]+)(?:/_history/.*)?$`)));
  const m = re.exec(ref);
  return m ? m[1]! : null;
};

export function nameText(names: FhirPatient['name']): string | null {
  if (!names || names.length === 0) return null;
  const n = names.find((x) => x.use === 'official') ?? names.find((x) => x.use !== 'old') ?? names[0]!;
  if (n.text?.trim()) return n.text.trim().normalize('NFC');
  const parts = [...(n.given ?? []), n.family].filter(Boolean).join(' ').trim();
  return parts ? parts.normalize('NFC') : null;
}

export function mrnOf(p: FhirPatient, mrnSystem?: string): string | null {
  const ids = p.identifier ?? [];
  const bySystem = mrnSystem ? ids.find((i) => i.system === mrnSystem && i.value) : undefined;
  const byType = ids.find((i) => i.type?.coding?.some((c) => c.code === 'MR') && i.value);
  return (bySystem ?? byType ?? ids.find((i) => i.value))?.value ?? null;
}

export function practitionerName(ref: { reference?: string; display?: string } | undefined, practitioners: Map<string, FhirPractitioner>): string | null {
  if (!ref) return null;
  const id = refId(ref.reference, 'Practitioner');
  const p = id ? practitioners.get(id) : undefined;
  return (p ? nameText(p.name) : null) ?? ref.display?.trim() ?? null;
}

function hhmm(t: string): string {
  return t.slice(0, 5);
}

function frequencyText(d: NonNullable<FhirMedicationRequest['dosageInstruction']>[number] | undefined): string | null {
  if (!d?.timing) return null;
  const code = conceptText(d.timing.code);
  if (code) return code;
  const r = d.timing.repeat;
  if (!r?.frequency || !r.period || !r.periodUnit) return null;
  const unit = { h: 'hour', d: 'day', wk: 'week', min: 'minute' }[r.periodUnit] ?? r.periodUnit;
  return r.frequency === 1 ? `every ${r.period === 1 ? '' : `${r.period} `}${unit}${r.period === 1 ? '' : 's'}` : `${r.frequency} times every ${r.period === 1 ? '' : `${r.period} `}${unit}${r.period === 1 ? '' : 's'}`;
}

/** The medication's name whether it is a concept, a contained resource or a reference to a Medication. */
export function medicationName(
  r: Pick<FhirMedicationRequest, 'medicationCodeableConcept' | 'medicationReference' | 'contained'>,
  medications: Map<string, { code?: CodeableConcept }>,
): string | null {
  if (r.medicationCodeableConcept) return conceptText(r.medicationCodeableConcept);
  const ref = r.medicationReference?.reference;
  if (ref?.startsWith('#')) {
    const c = r.contained?.find((x) => x.resourceType === 'Medication' && x.id === ref.slice(1)) as { code?: CodeableConcept } | undefined;
    return conceptText(c?.code) ?? r.medicationReference?.display ?? null;
  }
  const id = refId(ref, 'Medication');
  const m = id ? medications.get(id) : undefined;
  return conceptText(m?.code) ?? r.medicationReference?.display ?? null;
}

export function toOrder(r: FhirMedicationRequest, medications: Map<string, { code?: CodeableConcept }>, practitioners: Map<string, FhirPractitioner>): MedicationOrder {
  const d = r.dosageInstruction?.[0];
  const q = d?.doseAndRate?.[0]?.doseQuantity;
  const drug = medicationName(r, medications)?.normalize('NFC') ?? 'Medication name not provided by the source';
  const ext = r.extension?.find((e) => e.url === HIGH_ALERT_EXTENSION)?.valueBoolean;
  const bounds = d?.timing?.repeat?.boundsPeriod;
  const prn = d?.asNeededBoolean === true || d?.asNeededCodeableConcept !== undefined;
  return {
    id: r.id,
    drug,
    dose: q?.value !== undefined ? `${q.value} ${q.unit ?? q.code ?? ''}`.trim() : d?.text?.trim() || null,
    route: conceptText(d?.route),
    frequency: frequencyText(d),
    scheduledTimes: prn ? [] : (d?.timing?.repeat?.timeOfDay ?? []).map(hhmm).sort(),
    prn,
    prnReason: conceptText(d?.asNeededCodeableConcept),
    start: bounds?.start ?? r.authoredOn ?? null,
    end: bounds?.end ?? null,
    orderedBy: practitionerName(r.requester, practitioners),
    highAlert: ext ?? isHighAlertDrug(drug),
    status: r.status === 'on-hold' ? 'on-hold' : 'active',
    instructions: d?.patientInstruction?.trim() || null,
  };
}

const ADMIN_STATUSES = new Set(['completed', 'not-done', 'in-progress', 'stopped', 'entered-in-error']);

export function toAdministration(a: FhirMedicationAdministration, medications: Map<string, { code?: CodeableConcept }>, practitioners: Map<string, FhirPractitioner>): Administration | null {
  const at = a.effectiveDateTime ?? a.effectivePeriod?.start;
  if (!at) return null;
  const q = a.dosage?.dose;
  return {
    orderId: refId(a.request?.reference, 'MedicationRequest'),
    drug: medicationName(a, medications)?.normalize('NFC') ?? 'Medication name not provided by the source',
    dose: q?.value !== undefined ? `${q.value} ${q.unit ?? ''}`.trim() : a.dosage?.text ?? null,
    at,
    by: practitionerName(a.performer?.[0]?.actor, practitioners),
    status: (ADMIN_STATUSES.has(a.status) ? a.status : 'unknown') as Administration['status'],
  };
}

const isActiveAllergy = (a: FhirAllergy) => {
  const clinical = a.clinicalStatus?.coding?.[0]?.code;
  const verification = a.verificationStatus?.coding?.[0]?.code;
  return clinical !== 'inactive' && clinical !== 'resolved' && verification !== 'refuted' && verification !== 'entered-in-error';
};

export function toAllergyList(items: FhirAllergy[]): AllergyList {
  const active = items.filter(isActiveAllergy);
  const nka = active.filter((a) => a.code?.coding?.some((c) => c.code && NO_KNOWN_ALLERGY_CODES.has(c.code)));
  const real = active.filter((a) => !nka.includes(a));
  if (real.length > 0) {
    return {
      status: 'recorded',
      items: real.map(
        (a): Allergy => ({
          substance: conceptText(a.code)?.normalize('NFC') ?? 'Substance not named by the source',
          reaction: a.reaction?.flatMap((r) => (r.manifestation ?? []).map(conceptText)).filter(Boolean).join(', ') || null,
          severity: a.reaction?.find((r) => r.severity)?.severity ?? null,
          criticality: a.criticality ?? null,
          category: a.category?.[0] ?? null,
        }),
      ),
    };
  }
  return { status: nka.length > 0 ? 'none-known' : 'not-recorded', items: [] };
}

export function classifyFlags(flags: FhirFlag[]): { codeStatus: string | null; isolation: string[]; flags: SafetyFlag[] } {
  let codeStatus: string | null = null;
  const isolation: string[] = [];
  const out: SafetyFlag[] = [];
  for (const f of flags) {
    if (f.status !== 'active') continue;
    const text = conceptText(f.code);
    if (!text) continue;
    const cats = (f.category ?? []).flatMap((c) => c.coding?.map((x) => x.code) ?? []);
    if (cats.includes('advance-directive') || /^code status/i.test(text)) codeStatus = text.replace(/^code status:\s*/i, '');
    else if (/isolat|cách ly/i.test(text)) isolation.push(text);
    else out.push({ text, category: cats.includes('clinical') ? 'clinical' : 'other' });
  }
  return { codeStatus, isolation, flags: out };
}

export function latestWeightKg(obs: FhirObservation[]): number | null {
  const weights = obs
    .filter((o) => o.status !== 'entered-in-error' && o.code.coding?.some((c) => c.code === '29463-7') && o.valueQuantity?.value !== undefined)
    .sort((a, b) => (b.effectiveDateTime ?? '').localeCompare(a.effectiveDateTime ?? ''));
  const w = weights[0]?.valueQuantity;
  if (!w || w.value === undefined) return null;
  const unit = (w.code ?? w.unit ?? 'kg').toLowerCase();
  if (unit === 'g') return w.value / 1000;
  if (unit === '[lb_av]' || unit === 'lb' || unit === 'lbs') return Math.round(w.value * 0.45359237 * 10) / 10;
  return w.value;
}

export function attendingOf(e: FhirEncounter, practitioners: Map<string, FhirPractitioner>): string | null {
  const parts = e.participant ?? [];
  const atnd = parts.find((p) => p.type?.some((t) => t.coding?.some((c) => c.code === 'ATND'))) ?? parts[0];
  return practitionerName(atnd?.individual, practitioners);
}

export function basePatient(p: FhirPatient, e: FhirEncounter, bedId: string | null, practitioners: Map<string, FhirPractitioner>, mrnSystem?: string): Patient {
  return {
    id: p.id,
    mrn: mrnOf(p, mrnSystem),
    name: nameText(p.name),
    birthDate: p.birthDate ?? null,
    sex: p.gender === 'male' || p.gender === 'female' || p.gender === 'other' ? p.gender : null,
    bedId,
    admittedAt: e.period?.start ?? null,
    attending: attendingOf(e, practitioners),
    admittingDiagnosis: conceptText(e.reasonCode?.[0]),
    codeStatus: null,
    isolation: [],
    flags: [],
    weightKg: null,
    diagnoses: { status: 'not-pulled', items: [] },
    allergies: { status: 'not-pulled', items: [] },
    orders: { status: 'not-pulled', items: [] },
    administrations: { status: 'not-pulled', since: null, items: [] },
  };
}

export function toDiagnoses(conds: FhirCondition[]) {
  return conds
    .filter((c) => !['inactive', 'resolved', 'remission'].includes(c.clinicalStatus?.coding?.[0]?.code ?? ''))
    .map((c) => ({ text: conceptText(c.code) ?? 'Diagnosis not named by the source', code: c.code?.coding?.find((x) => x.code)?.code ?? null }));
}
