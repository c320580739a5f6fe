import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { isHighAlertDrug } from '../../model/high-alert.js';
import type { MedicationOrder, Patient, Result } from '../../model/ward.js';
import { composeName, type NameOrder } from '../../model/names.js';
import { PaperbackError } from '../../log/errors.js';

/**
 * Export formats a HIS can drop as files. Column names are fixed and
 * documented in docs/configuration.md; CSV (UTF-8, comma, header row) and JSON (an
 * array of objects with the same names) are both accepted. Empty means unknown.
 */

const blankToNull = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? null : v);
const opt = z.preprocess(blankToNull, z.string().trim().nullable().optional()).transform((v) => v ?? null);
const date = z.preprocess(blankToNull, z.string().trim().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD').nullable().optional()).transform((v) => v ?? null);
const dateTime = z.preprocess(blankToNull, z.string().trim().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date-time').nullable().optional()).transform((v) => (v ? new Date(v).toISOString() : null));
const yesNo = z.preprocess(blankToNull, z.enum(['yes', 'no', 'true', 'false', '1', '0']).nullable().optional()).transform((v) => (v === null || v === undefined ? null : ['yes', 'true', '1'].includes(v)));

export const censusRow = z.object({
  bed: z.string().trim().min(1, 'is required'),
  room: opt,
  mrn: opt,
  /** The name as the HIS writes it; or, when blank, family_name and given_name, written in the site's order. */
  name: opt,
  family_name: opt,
  given_name: opt,
  birth_date: date,
  sex: z.preprocess(blankToNull, z.enum(['male', 'female', 'other', 'M', 'F', 'O']).nullable().optional()).transform((v) => (v === 'M' ? 'male' : v === 'F' ? 'female' : v === 'O' ? 'other' : (v ?? null))),
  admitted_at: dateTime,
  attending: opt,
  diagnosis: opt,
  code_status: opt,
  /** Semicolon-separated isolation precautions. */
  isolation: opt,
  /** Semicolon-separated substances; "NKA" = no known allergies; empty = not recorded. */
  allergies: opt,
  weight_kg: z.preprocess(blankToNull, z.coerce.number().positive().max(500).nullable().optional()).transform((v) => v ?? null),
  /** Semicolon-separated other safety flags (fall risk…). */
  flags: opt,
  /** Printed on the patient band when given: the admission number, the insurance card (thẻ BHYT), the citizen ID (CCCD). */
  admission_no: opt.pipe(z.string().max(40, 'is longer than 40 characters').nullable()),
  insurance_card: opt.pipe(z.string().max(40, 'is longer than 40 characters').nullable()),
  citizen_id: opt.pipe(z.string().max(40, 'is longer than 40 characters').nullable()),
});

export const medicationRow = z.object({
  mrn: z.string().trim().min(1, 'is required'),
  order_id: opt,
  drug: z.string().trim().min(1, 'is required'),
  dose: opt,
  route: opt,
  frequency: opt,
  /** Space-separated HH:MM times. */
  times: z.preprocess(blankToNull, z.string().trim().regex(/^(\d{2}:\d{2})(\s+\d{2}:\d{2})*$/, 'must be HH:MM times separated by spaces').nullable().optional()).transform((v) => (v ? v.split(/\s+/) : [])),
  prn: yesNo,
  prn_reason: opt,
  start: dateTime,
  end: dateTime,
  ordered_by: opt,
  high_alert: yesNo,
  status: z.preprocess(blankToNull, z.enum(['active', 'on-hold']).nullable().optional()).transform((v) => v ?? 'active'),
});

/** One laboratory result or vital sign (WARD.results.csv|json): printed as sent on the patient summary. */
export const resultRow = z.object({
  mrn: z.string().trim().min(1, 'is required'),
  category: z.preprocess(blankToNull, z.enum(['laboratory', 'vital-signs']).nullable().optional()).transform((v) => v ?? 'laboratory'),
  test: z.string().trim().min(1, 'is required').max(200, 'is longer than 200 characters'),
  value: z.string().trim().min(1, 'is required').max(200, 'is longer than 200 characters'),
  unit: opt,
  range: opt,
  flag: opt,
  at: z.preprocess(blankToNull, z.string().trim().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date-time')).transform((v) => new Date(v as string).toISOString()),
  status: z.preprocess(blankToNull, z.enum(['final', 'preliminary', 'amended', 'corrected']).nullable().optional()).transform((v) => v ?? 'final'),
});
export type ResultRow = z.infer<typeof resultRow>;

export const resultRowToResult = (r: ResultRow): Result => ({ category: r.category, name: r.test.normalize('NFC'), value: r.value, unit: r.unit, range: r.range, flag: r.flag && !/^n(ormal)?$/i.test(r.flag) ? r.flag : null, at: r.at, preliminary: r.status === 'preliminary' });

export type CensusRow = z.infer<typeof censusRow>;
export type MedicationRow = z.infer<typeof medicationRow>;

export class ExportFormatError extends PaperbackError {
  constructor(message: string) {
    super('export-format', message);
  }
}

/** Parse a CSV or JSON export into validated rows; the error names the row and the column. */
export function parseRows<T>(text: string, kind: 'csv' | 'json', schema: z.ZodType<T>): T[] {
  let raw: unknown[];
  try {
    raw = kind === 'csv' ? (parse(text.replace(/^\uFEFF/, ''), { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true }) as unknown[]) : (JSON.parse(text) as unknown[]);
  } catch (err) {
    throw new ExportFormatError(`not valid ${kind.toUpperCase()}${whereParseFailed(err, text)}`);
  }
  if (!Array.isArray(raw)) throw new ExportFormatError('JSON export must be an array of rows');
  return validateRows(raw, schema, (i) => `row ${i + 1}${kind === 'csv' ? ` (line ${i + 2})` : ''}`);
}

/**
 * Rows from anywhere (an export file, a SQL query) checked against the same
 * column rules; the error names the row (as `where` says it) and the column,
 * never the value, which is patient data.
 */
export function validateRows<T>(raw: unknown[], schema: z.ZodType<T>, where: (i: number) => string): T[] {
  return raw.map((r, i) => {
    const res = schema.safeParse(r);
    if (!res.success) {
      const issue = res.error.issues[0]!;
      throw new ExportFormatError(`${where(i)}: column "${issue.path.join('.')}" ${issue.message}`);
    }
    return res.data;
  });
}

/**
 * Where a parse failed, without quoting the file: JSON.parse and csv-parse put
 * the text around the error in their messages, and an export's text is patient
 * data that must not reach a log or a .reason file.
 */
function whereParseFailed(err: unknown, text: string): string {
  const e = err as { message?: string; lines?: number; code?: string };
  if (typeof e.lines === 'number') return ` (${e.code ?? 'parse error'} at line ${e.lines})`;
  const pos = /position (\d+)/.exec(e.message ?? '');
  if (pos) {
    const before = text.slice(0, Number(pos[1]));
    return ` (at line ${before.split('\n').length}, column ${before.length - before.lastIndexOf('\n')})`;
  }
  return /Unexpected end/i.test(e.message ?? '') ? ' (it ends too early)' : '';
}

/**
 * What no HIS export is: empty, only whitespace, or not UTF-8 text (a binary file,
 * a wrong encoding). Refused before parsing, so garbage never becomes a census.
 */
export function assertExportText(content: Buffer): string {
  if (content.length === 0) throw new ExportFormatError('the file is empty (0 bytes)');
  if (content.includes(0)) throw new ExportFormatError('the file is binary, not a CSV or JSON export (it contains NUL bytes)');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    throw new ExportFormatError('the file is not UTF-8 text: export it as UTF-8 (CSV UTF-8 in Excel)');
  }
  if (text.replace(/^\uFEFF/, '').trim() === '') throw new ExportFormatError('the file holds only whitespace');
  return text;
}

const list = (s: string | null) => (s ? s.split(';').map((x) => x.trim()).filter(Boolean) : []);

export function censusToPatients(rows: CensusRow[], nameOrder: NameOrder = 'family-first'): { beds: { id: string; label: string; room: string | null; patientId: string | null }[]; patients: Patient[] } {
  const beds = new Map<string, { id: string; label: string; room: string | null; patientId: string | null }>();
  const patients: Patient[] = [];
  for (const [i, r] of rows.entries()) {
    const bed = beds.get(r.bed) ?? { id: `bed-${r.bed}`, label: r.bed, room: r.room, patientId: null };
    beds.set(r.bed, bed);
    const name = r.name?.normalize('NFC') ?? composeName({ family: r.family_name, given: r.given_name ? r.given_name.split(/\s+/) : [] }, nameOrder);
    if (!r.mrn && !name) continue; // an empty bed
    const id = r.mrn ? `mrn-${r.mrn}` : `row-${i + 1}`;
    bed.patientId = id;
    const allergies = list(r.allergies);
    const nka = allergies.length === 1 && /^(nka|nkda|none known|không)$/i.test(allergies[0]!);
    patients.push({
      id,
      mrn: r.mrn,
      name,
      birthDate: r.birth_date,
      sex: r.sex as Patient['sex'],
      bedId: bed.id,
      admittedAt: r.admitted_at,
      attending: r.attending,
      admittingDiagnosis: r.diagnosis,
      codeStatus: r.code_status,
      isolation: list(r.isolation),
      flags: list(r.flags).map((text) => ({ text, category: 'clinical' as const })),
      weightKg: r.weight_kg,
      diagnoses: { status: r.diagnosis ? 'available' : 'not-pulled', items: r.diagnosis ? [{ text: r.diagnosis, code: null }] : [] },
      allergies: nka ? { status: 'none-known', items: [] } : allergies.length ? { status: 'recorded', items: allergies.map((substance) => ({ substance, reaction: null, severity: null, criticality: null, category: null })) } : { status: 'not-recorded', items: [] },
      orders: { status: 'not-pulled', items: [] },
      administrations: { status: 'not-pulled', since: null, items: [] },
      bandIds: [
        ...(r.admission_no ? [{ kind: 'admission' as const, value: r.admission_no }] : []),
        ...(r.insurance_card ? [{ kind: 'insurance' as const, value: r.insurance_card }] : []),
        ...(r.citizen_id ? [{ kind: 'citizen' as const, value: r.citizen_id }] : []),
      ],
    });
  }
  return { beds: [...beds.values()], patients };
}

export function medicationRowToOrder(r: MedicationRow, i: number): MedicationOrder {
  const drug = r.drug.normalize('NFC');
  return {
    id: r.order_id ?? `row-${i + 1}`,
    drug,
    dose: r.dose,
    route: r.route,
    frequency: r.frequency,
    scheduledTimes: r.prn ? [] : r.times,
    prn: r.prn ?? false,
    prnReason: r.prn_reason,
    start: r.start,
    end: r.end,
    orderedBy: r.ordered_by,
    highAlert: r.high_alert ?? isHighAlertDrug(drug),
    status: r.status,
    instructions: null,
  };
}
