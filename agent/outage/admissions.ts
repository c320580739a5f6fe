import { z } from 'zod';
import { PaperbackError } from '../log/errors.js';
import type { BlobStore } from '../store/blobs.js';
import { blobRows } from '../store/blobs.js';
import type { Db } from '../store/db.js';
import { issueDowntimeNumber, issuedNumber, issuedNumbers, type IssuedNumber } from '../store/downtime-numbers.js';
import { composeName, type NameOrder } from '../model/names.js';
import type { PatientLabel } from '../render/labels.js';

/**
 * A patient admitted on the ward page while the HIS is down: she gets the
 * next downtime number at once, and what was recorded about her is kept as a
 * sealed blob the number's row names (the house's publish model: the file
 * first, then the row, in one transaction). Registration maps the number to
 * the HIS record after recovery.
 */

/** Birth dates a nurse may type: a full date, or only a year (age estimated) when nothing more is known. */
const birthDate = z
  .string()
  .trim()
  .regex(/^\d{4}(-\d{2}-\d{2})?$/, 'a date (YYYY-MM-DD) or a year (YYYY)')
  .refine((d) => (d.length === 4 ? true : !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d)), 'not a date on the calendar');

export const admissionInput = z
  .object({
    family: z.string().trim().min(1, 'is required').max(80),
    given: z.string().trim().max(80).default(''),
    birthDate,
    sex: z.enum(['male', 'female', 'other', 'unknown']),
    bed: z.string().trim().max(20).default(''),
  })
  .strict();
export type AdmissionInput = z.infer<typeof admissionInput>;

export interface Admission {
  number: string;
  name: string;
  family: string;
  given: string;
  birthDate: string;
  sex: AdmissionInput['sex'];
  ward: string;
  bed: string | null;
  enteredBy: string;
  enteredAt: string;
  /** After recovery: the HIS record this number became. */
  hisMrn: string | null;
}

export class AdmissionError extends PaperbackError {
  constructor(message: string) {
    super('admission-invalid', message);
  }
}

/** Record a downtime admission and issue its number; throws (DowntimeNumberError) when the box has none left. */
export function admitDuringDowntime(db: Db, blobs: BlobStore, input: AdmissionInput, o: { ward: string; by: string; nameOrder: NameOrder; capitals?: boolean; now: Date }): Admission {
  if (o.now.getTime() < Date.parse(`${input.birthDate.length === 4 ? `${input.birthDate}-01-01` : input.birthDate}T00:00:00Z`)) {
    throw new AdmissionError('the birth date is in the future');
  }
  const composed = composeName({ family: input.family, given: input.given ? input.given.split(/\s+/) : [] }, o.nameOrder) ?? input.family;
  // The census's rule for names (paperback.yaml names.capitals), so her band matches the ward's paper.
  const name = o.capitals ? composed.toLocaleUpperCase('vi') : composed;
  const record = { family: input.family, given: input.given, name, birthDate: input.birthDate, sex: input.sex, ward: o.ward, bed: input.bed || null, enteredBy: o.by, enteredAt: o.now.toISOString() };
  const { sha256, size } = blobs.put(Buffer.from(JSON.stringify(record)));
  const number = db
    .transaction(() => {
      blobRows(db, o.now)(sha256, size);
      return issueDowntimeNumber(db, { by: o.by, admissionSha256: sha256, now: o.now });
    })
    .immediate();
  return { number, ...record, hisMrn: null };
}

function fromRow(blobs: BlobStore, n: IssuedNumber): Admission | null {
  if (!n.admissionSha256 || !blobs.has(n.admissionSha256)) return null;
  const r = JSON.parse(blobs.get(n.admissionSha256).toString('utf8')) as Omit<Admission, 'number' | 'hisMrn'>;
  return { number: n.number, ...r, hisMrn: n.hisMrn };
}

/**
 * Every downtime admission on this box, oldest first; with `unmapped`, only
 * those Registration has not mapped yet, whose sealed records alone are opened
 * (a snapshot run asks on every run, long after the downtime).
 */
export function listAdmissions(db: Db, blobs: BlobStore, o: { unmapped?: boolean } = {}): Admission[] {
  return issuedNumbers(db).flatMap((n) => (o.unmapped && n.hisMrn ? [] : fromRow(blobs, n) ?? []));
}

/** One admission by its number: its row, and only its record opened. */
export function findAdmission(db: Db, blobs: BlobStore, number: string): Admission | null {
  const row = issuedNumber(db, number);
  return row ? fromRow(blobs, row) : null;
}

/** A downtime admission's label: her downtime number to scan, and allergies not known (nobody has asked the HIS). */
export function admissionLabel(a: Admission, wardName: string): PatientLabel {
  return { name: a.name, birthDate: a.birthDate, sex: a.sex, id: a.number, idKind: 'downtime', ward: wardName, bed: a.bed, allergies: { status: 'not-recorded', items: [] }, asOf: null };
}
