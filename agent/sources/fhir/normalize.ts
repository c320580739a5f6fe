import type { Administration, Allergy, AllergyAbsence, AllergyList, Diagnosis, MedicationOrder, OrderTiming, Patient, SafetyFlag } from '../../model/ward.js';
import { isHighAlertDrug } from '../../model/high-alert.js';
import { composeName, type NameOrder } from '../../model/names.js';
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

/**
 * The name to print: the official one, else the usual one, else any that is not
 * old, a nickname or a maiden name; its text when the source wrote one, else its
 * parts in the site's order.
 */
export function nameText(names: FhirPatient['name'], order: NameOrder = 'family-first'): string | null {
  if (!names || names.length === 0) return null;
  const n = names.find((x) => x.use === 'official') ?? names.find((x) => x.use === 'usual') ?? names.find((x) => !['old', 'nickname', 'maiden', 'anonymous'].includes(x.use ?? '')) ?? names[0]!;
  if (n.text?.trim()) return n.text.trim().normalize('NFC');
  return composeName({ prefix: n.prefix, family: n.family, given: n.given, suffix: n.suffix }, order);
}

/** Identifier types (HL7 v2 table 0203) that are a person's national, insurance or travel number, never a hospital's MRN. */
const NOT_MRN_TYPES = new Set(['SS', 'SB', 'NI', 'NN', 'NNxxx', 'PPN', 'DL', 'TAX', 'CZ', 'HC', 'JHN', 'MA', 'MC', 'MCN', 'NH', 'BC', 'PEN', 'PRC']);
/** Systems of such numbers: US SSN (by URL or OID), national IDs, passports, Vietnamese citizen ID (CCCD/CMND) and health insurance (BHYT). */
const NOT_MRN_SYSTEM = /ssn|2\.16\.840\.1\.113883\.4\.1$|national|passport|cccd|cmnd|bhyt|insurance|medicare|medicaid/i;

/**
 * The MRN printed and put in the barcode: the source's configured system, else
 * an identifier typed MR, else the first that is not a national, insurance or
 * travel number. Never an SSN or a citizen ID: a barcode scanned at a bedside
 * must not carry one, and staff must not match on it.
 */
export function mrnOf(p: FhirPatient, mrnSystem?: string): string | null {
  const ids = (p.identifier ?? []).filter((i) => i.value && (i as { use?: string }).use !== 'old');
  const bySystem = mrnSystem ? ids.find((i) => i.system === mrnSystem) : undefined;
  const byType = ids.find((i) => i.type?.coding?.some((c) => c.code === 'MR'));
  const other = ids.find((i) => !i.type?.coding?.some((c) => c.code && NOT_MRN_TYPES.has(c.code)) && !NOT_MRN_SYSTEM.test(i.system ?? ''));
  return (bySystem ?? byType ?? other)?.value ?? null;
}

export function practitionerName(ref: { reference?: string; display?: string } | undefined, practitioners: Map<string, FhirPractitioner>, order: NameOrder = 'family-first'): string | null {
  if (!ref) return null;
  const id = refId(ref.reference, 'Practitioner');
  const p = id ? practitioners.get(id) : undefined;
  return (p ? nameText(p.name, order) : null) ?? ref.display?.trim() ?? null;
}

function hhmm(t: string): string {
  return t.slice(0, 5);
}

type Dosage = NonNullable<FhirMedicationRequest['dosageInstruction']>[number];
type Quantity = { value?: number; unit?: string; code?: string };

const qty = (q: Quantity | undefined): string | null => (q?.value !== undefined ? `${q.value} ${q.unit ?? q.code ?? ''}`.trim() : null);
const perQty = (q: Quantity | undefined): string | null => (q?.value === undefined ? null : q.value === 1 ? q.unit ?? q.code ?? '' : qty(q));

/** Best name for a drug concept: its text, else the display of an RxNorm, then ATC, then any coding; else a code. */
export function medicationConceptText(c: CodeableConcept | undefined): string | null {
  if (!c) return null;
  if (c.text?.trim()) return c.text.trim();
  const codings = c.coding ?? [];
  const rank = (sys: string | undefined) => (sys?.includes('rxnorm') ? 0 : sys?.includes('atc') ? 1 : 2);
  const best = [...codings].filter((x) => x.display?.trim()).sort((a, b) => rank(a.system) - rank(b.system))[0];
  if (best) return best.display!.trim();
  const coded = [...codings].filter((x) => x.code).sort((a, b) => rank(a.system) - rank(b.system))[0];
  return coded ? `code ${coded.code}` : null;
}

const codesOf = (c: CodeableConcept | undefined): string[] => (c?.coding ?? []).filter((x) => x.code).map((x) => `${x.system ?? ''}|${x.code}`);

/** A Medication's name: its code, else its ingredients ("Amoxicillin + Clavulanate"). */
function medicationResourceName(m: { code?: CodeableConcept; ingredient?: { itemCodeableConcept?: CodeableConcept; itemReference?: { display?: string } }[] } | undefined): string | null {
  if (!m) return null;
  const named = medicationConceptText(m.code);
  if (named) return named;
  const parts = (m.ingredient ?? []).map((i) => medicationConceptText(i.itemCodeableConcept) ?? i.itemReference?.display?.trim() ?? null).filter((x): x is string => !!x);
  return parts.length ? parts.join(' + ') : null;
}

type MedicationLike = { code?: CodeableConcept; ingredient?: { itemCodeableConcept?: CodeableConcept; itemReference?: { display?: string } }[] };

function medicationOf(r: Pick<FhirMedicationRequest, 'medicationCodeableConcept' | 'medicationReference' | 'contained'>, medications: Map<string, MedicationLike>): MedicationLike | undefined {
  const ref = r.medicationReference?.reference;
  if (ref?.startsWith('#')) return r.contained?.find((x) => x.resourceType === 'Medication' && x.id === ref.slice(1)) as MedicationLike | undefined;
  const id = refId(ref, 'Medication');
  return id ? medications.get(id) : undefined;
}

/** The medication's name whether it is a concept, a contained resource or a reference to a Medication. */
export function medicationName(r: Pick<FhirMedicationRequest, 'medicationCodeableConcept' | 'medicationReference' | 'contained'>, medications: Map<string, MedicationLike>): string | null {
  if (r.medicationCodeableConcept) return medicationConceptText(r.medicationCodeableConcept);
  return medicationResourceName(medicationOf(r, medications)) ?? r.medicationReference?.display?.trim() ?? null;
}

const PERIOD_UNITS = new Set(['s', 'min', 'h', 'd', 'wk', 'mo', 'a']);

function timingOf(d: Dosage): OrderTiming | null {
  const t = d.timing;
  if (!t) return null;
  const r = t.repeat ?? {};
  const code = t.code?.coding?.find((c) => c.code)?.code ?? t.code?.text?.trim() ?? null;
  const dur = r.boundsDuration;
  return {
    code,
    frequency: r.frequency ?? null,
    frequencyMax: r.frequencyMax ?? null,
    period: r.period ?? null,
    periodMax: r.periodMax ?? null,
    periodUnit: r.periodUnit && PERIOD_UNITS.has(r.periodUnit) ? (r.periodUnit as OrderTiming['periodUnit']) : null,
    when: r.when ?? [],
    offsetMinutes: r.offset ?? null,
    dayOfWeek: r.dayOfWeek ?? [],
    count: r.count ?? null,
    boundsStart: r.boundsPeriod?.start ?? null,
    boundsEnd: r.boundsPeriod?.end ?? null,
    boundsDuration: dur?.value !== undefined ? { value: dur.value, unit: dur.code ?? dur.unit ?? '' } : null,
  };
}

function doseOf(d: Dosage): { dose: string | null; rate: string | null } {
  const dr = d.doseAndRate?.[0];
  const range = dr?.doseRange;
  const dose = qty(dr?.doseQuantity) ?? (range && (range.low || range.high) ? `${range.low?.value ?? '?'}–${qty(range.high) ?? qty(range.low) ?? '?'}` : null);
  const rr = dr?.rateRatio;
  const rate = qty(dr?.rateQuantity) ?? (rr?.numerator ? `${qty(rr.numerator)}/${perQty(rr.denominator) ?? '?'}` : null) ?? (dr?.rateRange ? `${dr.rateRange.low?.value ?? '?'}–${qty(dr.rateRange.high) ?? '?'}` : null);
  return { dose, rate };
}

/** Statuses of an order a nurse may act on; draft, cancelled, completed, stopped, entered-in-error are not. */
const ACTIVE_ORDER_STATUSES = new Set(['active', 'on-hold', 'suspended']);
/** Intents that are orders; proposals and plans are not. A server that omits intent is taken at its word that it sent orders. */
const ORDER_INTENTS = new Set(['order', 'original-order', 'reflex-order', 'filler-order', 'instance-order']);
export const isActualOrder = (r: Pick<FhirMedicationRequest, 'status' | 'intent'>) => ACTIVE_ORDER_STATUSES.has(r.status) && (r.intent === undefined || ORDER_INTENTS.has(r.intent));

/**
 * One MAR row per dosage instruction, in sequence order: a sliding scale or a
 * taper is several instructions, each with its own dose and timing, and every
 * one of them is printed, numbered "1 of 3" so none can be missed.
 */
export function toOrders(r: FhirMedicationRequest, medications: Map<string, MedicationLike>, practitioners: Map<string, FhirPractitioner>): MedicationOrder[] {
  const drug = medicationName(r, medications)?.normalize('NFC') ?? 'Medication name not provided by the source';
  const ext = r.extension?.find((e) => e.url === HIGH_ALERT_EXTENSION)?.valueBoolean;
  const med = medicationOf(r, medications);
  const codes = [...codesOf(r.medicationCodeableConcept), ...codesOf(med?.code), ...(med?.ingredient ?? []).flatMap((i) => codesOf(i.itemCodeableConcept))];
  const dosages = [...(r.dosageInstruction ?? [])].map((d, i) => ({ d, i })).sort((a, b) => (a.d.sequence ?? a.i) - (b.d.sequence ?? b.i) || a.i - b.i);
  const base = {
    id: r.id,
    drug,
    orderedBy: practitionerName(r.requester, practitioners),
    highAlert: ext ?? isHighAlertDrug(drug, codes),
    status: r.status === 'active' ? ('active' as const) : ('on-hold' as const),
    doNotPerform: r.doNotPerform === true,
    codes,
  };
  if (dosages.length === 0) {
    return [{ ...base, dose: null, route: null, frequency: null, scheduledTimes: [], prn: false, prnReason: null, start: r.authoredOn ?? null, end: null, instructions: null, timing: null, step: null, rate: null, maxDose: null }];
  }
  return dosages.map(({ d }, i): MedicationOrder => {
    const { dose, rate } = doseOf(d);
    const timing = timingOf(d);
    const prn = d.asNeededBoolean === true || d.asNeededCodeableConcept !== undefined;
    // The prescriber's text, unless it only repeats the dose (some systems put "6 mg" there).
    const said = d.text?.trim() && d.text.trim().toLowerCase() !== dose?.toLowerCase() ? d.text.trim() : null;
    const extra = [said, ...(d.additionalInstruction ?? []).map(conceptText), d.patientInstruction?.trim()].filter((x): x is string => !!x);
    const max = d.maxDosePerPeriod;
    return {
      ...base,
      dose,
      route: conceptText(d.route),
      // The source's own words for the timing, if any; Paperback words the structure itself, in the sheet's language.
      frequency: conceptText(d.timing?.code),
      scheduledTimes: prn ? [] : (d.timing?.repeat?.timeOfDay ?? []).map(hhmm).sort(),
      prn,
      prnReason: conceptText(d.asNeededCodeableConcept),
      start: timing?.boundsStart ?? r.authoredOn ?? null,
      end: timing?.boundsEnd ?? null,
      instructions: [...new Set(extra)].join('\n').normalize('NFC') || null,
      timing,
      step: dosages.length > 1 ? { index: i + 1, of: dosages.length } : null,
      rate,
      maxDose: max?.numerator ? `${qty(max.numerator)} / ${qty(max.denominator) ?? '?'}` : null,
    };
  });
}

const ADMIN_STATUSES = new Set(['completed', 'not-done', 'in-progress', 'stopped']);

/**
 * A dose record, or null for one that says nothing: entered-in-error
 * (retracted, never "not given"), or with no time. The time is kept as sent
 * (with its offset); callers compare instants, never strings.
 */
export function toAdministration(a: FhirMedicationAdministration, medications: Map<string, MedicationLike>, practitioners: Map<string, FhirPractitioner>): Administration | null {
  if (a.status === 'entered-in-error') return null;
  const at = a.effectiveDateTime ?? a.effectivePeriod?.start;
  if (!at || Number.isNaN(Date.parse(at))) return null;
  const q = a.dosage?.dose;
  return {
    orderId: refId(a.request?.reference, 'MedicationRequest'),
    drug: medicationName(a, medications)?.normalize('NFC') ?? 'Medication name not provided by the source',
    dose: qty(q) ?? a.dosage?.text ?? null,
    at,
    by: practitionerName(a.performer?.[0]?.actor, practitioners),
    status: (ADMIN_STATUSES.has(a.status) ? a.status : 'unknown') as Administration['status'],
    reason: a.statusReason?.map(conceptText).filter(Boolean).join('; ') || null,
  };
}

/** SNOMED "no known …" situations: statements that something is absent, never allergies. */
const ABSENCE_CODES: Record<string, AllergyAbsence> = {
  '716186003': 'all', // No known allergy
  '409137002': 'drug', // No known drug allergy
  '429625007': 'food', // No known food allergy
  '428607008': 'environment', // No known environmental allergy
  '428197003': 'insect', // No known insect allergy
  '716184000': 'latex', // No known latex allergy
};

/** A status concept's codes, from every coding: a server may put the standard code second. */
const statusCodes = (c: CodeableConcept | undefined) => new Set((c?.coding ?? []).map((x) => x.code).filter(Boolean));

const isActiveAllergy = (a: FhirAllergy) => {
  const clinical = statusCodes(a.clinicalStatus);
  const verification = statusCodes(a.verificationStatus);
  return !clinical.has('inactive') && !clinical.has('resolved') && !verification.has('refuted') && !verification.has('entered-in-error');
};

export function toAllergyList(items: FhirAllergy[]): AllergyList {
  const active = items.filter(isActiveAllergy);
  const absenceOf = (a: FhirAllergy) => a.code?.coding?.map((c) => (c.code ? ABSENCE_CODES[c.code] : undefined)).find(Boolean);
  const absent = [...new Set(active.map(absenceOf).filter((x): x is AllergyAbsence => !!x))];
  const real = active.filter((a) => !absenceOf(a));
  if (real.length > 0) {
    return {
      status: 'recorded',
      absent,
      items: real.map(
        (a): Allergy => ({
          substance: conceptText(a.code)?.normalize('NFC') ?? 'Substance not named by the source',
          reaction: a.reaction?.flatMap((r) => (r.manifestation ?? []).map(conceptText)).filter(Boolean).join(', ') || null,
          severity: a.reaction?.find((r) => r.severity)?.severity ?? null,
          criticality: a.criticality ?? null,
          category: a.category?.[0] ?? null,
          unconfirmed: statusCodes(a.verificationStatus).has('unconfirmed') || statusCodes(a.verificationStatus).has('presumed'),
          codes: codesOf(a.code),
        }),
      ),
    };
  }
  return { status: absent.length > 0 ? 'none-known' : 'not-recorded', items: [], absent };
}

export function classifyFlags(flags: FhirFlag[], now: Date = new Date()): { codeStatus: string | null; isolation: string[]; flags: SafetyFlag[] } {
  let codeStatus: string | null = null;
  const isolation: string[] = [];
  const out: SafetyFlag[] = [];
  for (const f of flags) {
    // A flag outside its period is not current (an isolation lifted yesterday, a precaution from next week).
    const p = (f as { period?: { start?: string; end?: string } }).period;
    if ((p?.end && Date.parse(p.end) < now.getTime()) || (p?.start && Date.parse(p.start) > now.getTime())) continue;
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

/** The newest valid measurement of a LOINC code, in the unit asked for, with when it was taken. */
function latestMeasure(obs: FhirObservation[], loinc: string, convert: (value: number, unit: string) => number | null): { value: number; at: string | null } | null {
  const valid = obs
    .filter((o) => !['entered-in-error', 'cancelled', 'preliminary'].includes(o.status) && o.code.coding?.some((c) => c.code === loinc) && o.valueQuantity?.value !== undefined)
    .sort((a, b) => Date.parse(b.effectiveDateTime ?? '') - Date.parse(a.effectiveDateTime ?? '') || 0);
  for (const o of valid) {
    const q = o.valueQuantity!;
    const value = convert(q.value!, (q.code ?? q.unit ?? '').toLowerCase());
    if (value !== null) return { value: Math.round(value * 10) / 10, at: o.effectiveDateTime ?? null };
  }
  return null;
}

export function latestWeight(obs: FhirObservation[]): { value: number; at: string | null } | null {
  return latestMeasure(obs, '29463-7', (v, unit) => (unit === 'g' ? v / 1000 : ['[lb_av]', 'lb', 'lbs'].includes(unit) ? v * 0.45359237 : unit === 'kg' || unit === '' ? v : null));
}

export function latestHeight(obs: FhirObservation[]): { value: number; at: string | null } | null {
  return latestMeasure(obs, '8302-2', (v, unit) => (unit === 'cm' || unit === '' ? v : unit === 'm' ? v * 100 : unit === 'mm' ? v / 10 : ['[in_i]', 'in'].includes(unit) ? v * 2.54 : null));
}

export function attendingOf(e: FhirEncounter, practitioners: Map<string, FhirPractitioner>, order?: NameOrder): string | null {
  const parts = e.participant ?? [];
  const atnd = parts.find((p) => p.type?.some((t) => t.coding?.some((c) => c.code === 'ATND'))) ?? parts[0];
  return practitionerName(atnd?.individual, practitioners, order);
}

export function basePatient(p: FhirPatient, e: FhirEncounter, bedId: string | null, practitioners: Map<string, FhirPractitioner>, mrnSystem?: string, order?: NameOrder): Patient {
  return {
    id: p.id,
    mrn: mrnOf(p, mrnSystem),
    name: nameText(p.name, order),
    birthDate: p.birthDate ?? null,
    deceased: p.deceasedDateTime ? { at: p.deceasedDateTime } : p.deceasedBoolean ? { at: null } : null,
    sex: p.gender === 'male' || p.gender === 'female' || p.gender === 'other' ? p.gender : null,
    bedId,
    admittedAt: e.period?.start ?? null,
    attending: attendingOf(e, practitioners, order),
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

/**
 * Current diagnoses from encounter diagnoses and the problem list: never one
 * refuted or entered in error, never inactive, resolved or in remission;
 * provisional and differential ones are marked.
 */
export function toDiagnoses(conds: FhirCondition[]): Diagnosis[] {
  const out: Diagnosis[] = [];
  const seen = new Set<string>();
  for (const c of conds) {
    const clinical = statusCodes(c.clinicalStatus);
    const verification = statusCodes((c as { verificationStatus?: CodeableConcept }).verificationStatus);
    if (['inactive', 'resolved', 'remission'].some((x) => clinical.has(x)) || verification.has('refuted') || verification.has('entered-in-error')) continue;
    const d: Diagnosis = { text: conceptText(c.code)?.normalize('NFC') ?? 'Diagnosis not named by the source', code: c.code?.coding?.find((x) => x.code)?.code ?? null, provisional: verification.has('provisional') || verification.has('differential') || verification.has('unconfirmed') };
    // The same diagnosis from the encounter and the problem list is one line.
    const key = `${d.code ?? ''}|${d.text.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}
