/**
 * The normalized ward: what Paperback knows about one ward at one moment,
 * independent of the wire format it came from (FHIR, HL7 v2, a CSV export).
 *
 * Convention for the whole model: `null` means *unknown* — the source did not
 * provide the value. It is never used for "none". Lists that can be
 * legitimately empty carry an explicit status so that "nothing recorded" and
 * "not pulled / not available" can never be confused on paper.
 */

export type Sex = 'male' | 'female' | 'other';

export interface SourceInfo {
  /** Id of the source in paperback.yaml, e.g. "his". */
  id: string;
  /** Human name of the central system, e.g. "Epic (FHIR R4)". */
  system: string;
  /** Base URL or folder; shown on paper so staff know where data came from. */
  location: string | null;
}

export interface Bed {
  /** Stable key of the bed within the ward (location id or label). */
  id: string;
  /** What is painted on the wall: "12A". */
  label: string;
  room: string | null;
  /** Patient.id occupying the bed, or null for an empty bed. */
  patientId: string | null;
}

export interface SafetyFlag {
  /** e.g. "Fall risk", "Contact isolation", "DNR". */
  text: string;
  category: 'isolation' | 'code-status' | 'clinical' | 'other';
}

export interface Allergy {
  substance: string;
  reaction: string | null;
  severity: string | null;
  criticality: 'low' | 'high' | 'unable-to-assess' | null;
  category: string | null;
  /** The source marks it unconfirmed (suspected): printed as such, still an allergy. */
  unconfirmed?: boolean;
  /** Codes the source sent for the substance (RxNorm, ATC, SNOMED …), for the drug–allergy check. */
  codes?: string[];
  /** Which system(s) said so, when a patient's allergies come from more than one (ADT AL1 and FHIR). */
  source?: string;
}

/** What a source positively says is absent: "no known drug allergy" says nothing about food. */
export type AllergyAbsence = 'all' | 'drug' | 'food' | 'environment' | 'latex' | 'insect';

export type AllergyStatus =
  /** At least one allergy recorded in items. */
  | 'recorded'
  /** The source positively states "no known allergies". */
  | 'none-known'
  /** The source has nothing about allergies: ask the patient. */
  | 'not-recorded'
  /** This snapshot job did not pull allergies. */
  | 'not-pulled';

export interface AllergyList {
  status: AllergyStatus;
  items: Allergy[];
  /**
   * Positive statements of absence the source made ("no known drug
   * allergy"). With status none-known and no 'all' here, only these kinds
   * are known absent; the others are not recorded.
   */
  absent?: AllergyAbsence[];
}

/**
 * When an order is to be given, as the source structured it (FHIR Timing).
 * Kept as data, not words, so paper says it in the sheet's language and due
 * times are worked out from it; `null` fields were not sent.
 */
export interface OrderTiming {
  /** The source's abbreviation (BID, Q4H, AM …), as sent. */
  code: string | null;
  frequency: number | null;
  frequencyMax: number | null;
  period: number | null;
  periodMax: number | null;
  periodUnit: 's' | 'min' | 'h' | 'd' | 'wk' | 'mo' | 'a' | null;
  /** Event codes (ACM, HS, MORN …) the dose is tied to. */
  when: string[];
  /** Minutes before (for AC…) or after (PC…) the event. */
  offsetMinutes: number | null;
  /** mon … sun: the dose is given on these days only. */
  dayOfWeek: string[];
  /** Total doses of the order (1: a single dose). */
  count: number | null;
  /** The course's start and end (ISO date or date-time). */
  boundsStart: string | null;
  boundsEnd: string | null;
  /** A course length without dates, e.g. { value: 7, unit: 'd' }. */
  boundsDuration: { value: number; unit: string } | null;
}

export interface MedicationOrder {
  /** The order's id at the source; every step of a multi-step order shares it (doses name it). */
  id: string;
  drug: string;
  dose: string | null;
  route: string | null;
  /** Human frequency, e.g. "every 8 hours", "twice daily". */
  frequency: string | null;
  /** Scheduled clock times "HH:MM" in the ward's time zone; empty for PRN or unknown. */
  scheduledTimes: string[];
  prn: boolean;
  prnReason: string | null;
  start: string | null;
  end: string | null;
  orderedBy: string | null;
  /** True/false when known (ISMP list or source flag), null when unknown. */
  highAlert: boolean | null;
  status: 'active' | 'on-hold';
  /** The prescriber's own words and extra instructions, as sent; printed beside the structured fields. */
  instructions: string | null;
  /** An order NOT to give this drug (FHIR doNotPerform): printed as such, never with due times. */
  doNotPerform?: boolean;
  /** Structured timing when the source has it; `frequency` is then only the source's own text, if any. */
  timing?: OrderTiming | null;
  /** One of several dosage instructions of one order (a sliding scale, a taper), 1-based, in sequence order. */
  step?: { index: number; of: number } | null;
  /** Infusion rate, e.g. "100 mL/h". */
  rate?: string | null;
  /** The most that may be given in a period, e.g. "4 mg / 1 d". */
  maxDose?: string | null;
  /** Codes the source sent for the drug ("system|code"), for class checks. */
  codes?: string[];
}

export interface Administration {
  orderId: string | null;
  drug: string;
  dose: string | null;
  /** ISO timestamp the dose was given (or documented as not given). */
  at: string;
  by: string | null;
  status: 'completed' | 'not-done' | 'in-progress' | 'stopped' | 'entered-in-error' | 'unknown';
  /** Why a dose was not given (not-done), as sent. */
  reason?: string | null;
  /** Recorded on this box during a downtime, not by the HIS. */
  downtime?: boolean;
}

export type DatasetStatus = 'available' | 'not-pulled';

export interface OrderList {
  status: DatasetStatus;
  items: MedicationOrder[];
}

export interface AdministrationList {
  status: DatasetStatus;
  /** Administrations within the window the source was asked for (24 h). */
  since: string | null;
  items: Administration[];
}

export interface Diagnosis {
  text: string;
  code: string | null;
  /** Provisional or differential: printed as such. */
  provisional?: boolean;
}

export interface Patient {
  /** Source-local stable key (e.g. FHIR Patient id). Never shown as an identifier. */
  id: string;
  mrn: string | null;
  /** Other identifiers the source sent (national ID, insurance number, a merged MRN): searchable, never printed as the MRN. */
  otherIds?: { label: string; value: string }[];
  /**
   * Identifiers printed on the patient band of every page, each only when the
   * source knows it: the admission number, the insurance card, the citizen ID
   * (Vietnamese records: số vào viện, thẻ BHYT, CCCD).
   */
  bandIds?: { kind: 'admission' | 'insurance' | 'citizen'; value: string }[];
  name: string | null;
  /** As sent: YYYY, YYYY-MM or YYYY-MM-DD; a partial date is printed as given, with an approximate age. */
  birthDate: string | null;
  /** The source records the patient as deceased (when, if it says). */
  deceased?: { at: string | null } | null;
  sex: Sex | null;
  bedId: string | null;
  admittedAt: string | null;
  attending: string | null;
  admittingDiagnosis: string | null;
  codeStatus: string | null;
  isolation: string[];
  flags: SafetyFlag[];
  weightKg: number | null;
  /** When the weight was measured, if the source says; an old weight must say it is old. */
  weightAt?: string | null;
  heightCm?: number | null;
  heightAt?: string | null;
  diagnoses: { status: DatasetStatus; items: Diagnosis[] };
  allergies: AllergyList;
  orders: OrderList;
  administrations: AdministrationList;
  /**
   * The latest clinical course entries as the HIS wrote them, newest first
   * (the insurance XML's XML5, where vital signs are free text): printed
   * verbatim with their time, never read as numbers.
   */
  clinicalCourse?: { at: string; text: string; by: string | null }[];
  /** Recent laboratory results and vital signs; absent when the job does not ask for them. */
  results?: ResultList;
  /**
   * What was recorded about her on this box during a downtime and is not yet
   * in the HIS (outage/entry-overlay.ts), in the order it happened: printed on
   * her MAR and summary as entered during the downtime, by whom and when.
   */
  downtimeEntries?: DowntimeEntryLine[];
  /** She was admitted on this box during a downtime: her downtime number is her MRN until Registration maps it. */
  downtimeAdmission?: { number: string; enteredBy: string; enteredAt: string };
}

/** One entry made on the box during a downtime, as paper shows it. */
export interface DowntimeEntryLine {
  kind: 'administration' | 'vitals' | 'note' | 'transfer' | 'discharge';
  /** When it happened, and when and by whom it was entered. */
  at: string;
  enteredAt: string;
  by: string;
  /** The entry as recorded (model/downtime-entry.ts), worded by the document. */
  payload: Record<string, unknown>;
  /** It replaces an earlier entry, for this reason. */
  correction: string | null;
  /** Filed back to the HIS already (shown until the HIS's own data has it). */
  filed: boolean;
}

/** A patient who left the ward during a downtime (recorded on this box): the census lists her apart. */
export interface WardDeparture {
  name: string | null;
  mrn: string | null;
  bed: string | null;
  kind: 'transfer' | 'discharge';
  /** The ward she went to, or where she was discharged to. */
  to: string | null;
  at: string;
  by: string;
}

/** One laboratory result or vital sign, as the source gave it: printed, never computed on. */
export interface Result {
  category: 'laboratory' | 'vital-signs';
  /** The test as the source names it (code text, else the coding's display, else the code). */
  name: string;
  /** "5.2", "120/80", "Positive", "< 0.01"; or the source's reason it has none. */
  value: string;
  unit: string | null;
  /** The reference range as sent: "3.5–5.0" or its text. */
  range: string | null;
  /** The source's interpretation: H, L, HH, LL, A … (normal is null). */
  flag: string | null;
  at: string;
  /** preliminary results are printed as such. */
  preliminary: boolean;
}

/**
 * Recent results: laboratory results of the last 72 hours and vital signs of
 * the last 24, newest first. `since` is the start of the laboratory window.
 * "No results in the window" (available, empty) and "results not pulled"
 * are different statements on paper.
 */
export interface ResultList {
  status: DatasetStatus;
  since: string | null;
  items: Result[];
}

export const LAB_WINDOW_HOURS = 72;
export const VITALS_WINDOW_HOURS = 24;

/** The start of the laboratory window at `now` (the FHIR search's date bound and the list's `since`). */
export const labWindowStart = (now: Date): string => new Date(now.getTime() - LAB_WINDOW_HOURS * 3_600_000).toISOString();

/** A patient's results as of `now`, every source alike: those still inside their windows, newest first. */
export const recentResults = (items: Result[], now: Date): ResultList => ({ status: 'available', since: labWindowStart(now), items: resultsInWindow(items, now) });

/** The results still inside their windows at `now`: labs 72 h, vital signs 24 h. */
export function resultsInWindow(items: Result[], now: Date): Result[] {
  const since = (c: Result['category']) => now.getTime() - (c === 'laboratory' ? LAB_WINDOW_HOURS : VITALS_WINDOW_HOURS) * 3_600_000;
  return items.filter((r) => Date.parse(r.at) >= since(r.category)).sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
}

export type SnapshotWarningCode = 'census-shrunk' | 'census-held' | 'source-warning' | 'partial-data';

export interface SnapshotWarning {
  code: SnapshotWarningCode;
  /** Plain words, printed on paper. Never contains patient data. */
  message: string;
  /** The same in the sheet's language: a wording key (templates/i18n) and its values, when Paperback wrote it. */
  say?: { key: string; vars?: Record<string, string | number> };
}

export interface WardSnapshot {
  /** code: the HIS's code for the ward, when the site configured one. */
  ward: { id: string; name: string; code?: string };
  /** ISO timestamp: the moment the source was read. */
  asOf: string;
  source: SourceInfo;
  beds: Bed[];
  patients: Patient[];
  warnings: SnapshotWarning[];
  /**
   * Present when entries made on this box during a downtime are applied to
   * the HIS's data (outage/entry-overlay.ts): how many, up to when.
   */
  downtimeEntries?: { count: number; through: string; departures: WardDeparture[]; admissions: number };
}

export type Dataset = 'census' | 'medications' | 'administrations' | 'allergies' | 'conditions' | 'flags' | 'results';
export const DATASETS: readonly Dataset[] = [
  'census',
  'medications',
  'administrations',
  'allergies',
  'conditions',
  'flags',
  'results',
];

/** The ward as paper names it: "Khoa Nội 3 (K03)", the code only when configured and not already in the name. */
export const wardLabel = (w: { name: string; code?: string }): string => (w.code && !w.name.includes(w.code) ? `${w.name} (${w.code})` : w.name);
