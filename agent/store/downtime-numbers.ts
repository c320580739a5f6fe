import { nowIso, type Db } from './db.js';
import { PaperbackError } from '../log/errors.js';

/**
 * Downtime numbers: identifiers the registration office hands a ward box in
 * advance, so a patient admitted while the HIS is down gets a band and
 * labels at once, and the HIS can be told afterwards which of its records
 * each number became. Each number is issued once, ever: a row goes
 * free → issued (issueDowntimeNumber) and never back; an issued row gains
 * its HIS record once (mapDowntimeNumber). Each transition is one immediate
 * transaction with its from-state, so `serve` and the CLI beside it never
 * issue one number twice.
 */

export interface NumberRange {
  prefix: string;
  from: number;
  to: number;
  /** Zero-padded to this many digits. */
  digits: number;
}

export interface IssuedNumber {
  number: string;
  pool: string;
  issuedAt: string;
  issuedBy: string;
  admissionSha256: string | null;
  hisMrn: string | null;
  hisEncounter: string | null;
  mappedAt: string | null;
  mappedBy: string | null;
}

export interface NumberUsage {
  total: number;
  issued: number;
  free: number;
  /** Share issued, 0–100 (0 when the box holds none). */
  percentUsed: number;
}

export class DowntimeNumberError extends PaperbackError {}

/** What a number may look like: it is printed, scanned and typed into the HIS later. */
const NUMBER = /^[A-Za-z0-9][A-Za-z0-9/-]{0,31}$/;

export const formatNumber = (r: NumberRange, n: number): string => `${r.prefix}${String(n).padStart(r.digits, '0')}`;
const poolOf = (r: NumberRange) => `config:${r.prefix}${r.from}-${r.to}`;

/**
 * Make the box's rows match the ranges in paperback.yaml: new ranges' numbers
 * become free rows; free numbers of a range no longer configured are
 * withdrawn. Issued numbers are never touched, whatever the config says.
 */
export function syncConfiguredRanges(db: Db, ranges: NumberRange[]): { added: number; withdrawn: number } {
  return db
    .transaction(() => {
      const insert = db.prepare(`INSERT OR IGNORE INTO downtime_numbers (number, pool, seq, state) VALUES (?, ?, ?, 'free')`);
      let added = 0;
      for (const r of ranges) {
        const pool = poolOf(r);
        for (let n = r.from; n <= r.to; n++) added += insert.run(formatNumber(r, n), pool, n).changes;
      }
      const keep = ranges.map(poolOf);
      const withdrawn = db
        .prepare(`DELETE FROM downtime_numbers WHERE state = 'free' AND pool LIKE 'config:%' AND pool NOT IN (SELECT value FROM json_each(?))`)
        .run(JSON.stringify(keep)).changes;
      return { added, withdrawn };
    })
    .immediate();
}

/**
 * The rows of a file from the registration office (a list of numbers, or
 * number,mrn[,encounter]): one per line, cells split on comma, semicolon or
 * tab and unquoted, the BOM Excel writes and a header line skipped, blank
 * lines ignored. `line` is the line number a person sees in the file.
 */
export function registrationRows(text: string): { line: number; cells: string[] }[] {
  const rows: { line: number; cells: string[] }[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, i) => {
    const cells = raw.split(/[,;\t]/).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    if (!cells[0] || (i === 0 && /^(number|so|số|downtime)/i.test(cells[0]))) return;
    rows.push({ line: i + 1, cells });
  });
  return rows;
}

/**
 * Numbers from a list the registration office provides (one per line, or a
 * CSV whose first column is the number; a header line is skipped). Numbers
 * the box already holds are left as they are. An invalid one names its line.
 */
export function importNumbers(db: Db, text: string, fileName: string): { added: number; known: number } {
  const numbers: string[] = [];
  for (const { line, cells } of registrationRows(text)) {
    const first = cells[0]!;
    if (!NUMBER.test(first)) throw new DowntimeNumberError('bad-number', `${fileName}: line ${line}: "${first.slice(0, 40)}" is not a downtime number (letters, digits, - and /, at most 32)`);
    numbers.push(first);
  }
  if (numbers.length === 0) throw new DowntimeNumberError('no-numbers', `${fileName}: no numbers found`);
  const pool = `import:${fileName.slice(-100)}`;
  return db
    .transaction(() => {
      const base = (db.prepare('SELECT COALESCE(MAX(seq), 0) FROM downtime_numbers WHERE pool = ?').pluck().get(pool) as number) + 1;
      const insert = db.prepare(`INSERT OR IGNORE INTO downtime_numbers (number, pool, seq, state) VALUES (?, ?, ?, 'free')`);
      let added = 0;
      numbers.forEach((n, i) => (added += insert.run(n, pool, base + i).changes));
      return { added, known: numbers.length - added };
    })
    .immediate();
}

/**
 * free → issued: the next free number (configured ranges first, then
 * imported lists, each in the order the box was given them), for an admission whose record is the
 * sealed blob `admissionSha256`. Throws when none is left.
 */
export function issueDowntimeNumber(db: Db, o: { by: string; admissionSha256: string | null; now: Date }): string {
  return db
    .transaction(() => {
      const next = db.prepare(`SELECT number FROM downtime_numbers WHERE state = 'free' ORDER BY pool LIKE 'import:%', rowid LIMIT 1`).pluck().get() as string | undefined;
      if (!next) throw new DowntimeNumberError('numbers-exhausted', 'this box has no downtime numbers left: ask the registration office for a new range (paperback numbers import FILE, or downtimeNumbers in paperback.yaml)');
      const done = db
        .prepare(`UPDATE downtime_numbers SET state = 'issued', issued_at = ?, issued_by = ?, admission_sha256 = ? WHERE number = ? AND state = 'free'`)
        .run(nowIso(o.now), o.by, o.admissionSha256, next).changes;
      if (done !== 1) throw new DowntimeNumberError('numbers-race', `downtime number ${next} was taken meanwhile; try again`, { retryable: true });
      return next;
    })
    .immediate();
}

/**
 * issued → mapped: the HIS record this number became. Mapping again to the
 * same record is a no-op; to a different one is refused (a person must look).
 */
export function mapDowntimeNumber(db: Db, number: string, m: { mrn: string; encounter?: string | null; by: string; now: Date }): 'mapped' | 'unchanged' {
  return db
    .transaction(() => {
      const row = db.prepare('SELECT state, his_mrn AS mrn FROM downtime_numbers WHERE number = ?').get(number) as { state: string; mrn: string | null } | undefined;
      if (!row) throw new DowntimeNumberError('unknown-number', `downtime number ${number} is not one of this box's`);
      if (row.state !== 'issued') throw new DowntimeNumberError('not-issued', `downtime number ${number} was never issued`);
      if (row.mrn === m.mrn) return 'unchanged' as const;
      if (row.mrn !== null) throw new DowntimeNumberError('mapped-elsewhere', `downtime number ${number} is already mapped to another HIS record; a person must check which is right`);
      db.prepare('UPDATE downtime_numbers SET his_mrn = ?, his_encounter = ?, mapped_at = ?, mapped_by = ? WHERE number = ? AND his_mrn IS NULL').run(m.mrn, m.encounter ?? null, nowIso(m.now), m.by, number);
      return 'mapped' as const;
    })
    .immediate();
}

export function numberUsage(db: Db): NumberUsage {
  const r = db.prepare(`SELECT COUNT(*) AS total, COALESCE(SUM(state = 'issued'), 0) AS issued FROM downtime_numbers`).get() as { total: number; issued: number };
  return { total: r.total, issued: r.issued, free: r.total - r.issued, percentUsed: r.total ? Math.round((r.issued / r.total) * 1000) / 10 : 0 };
}

const ISSUED = `SELECT number, pool, issued_at AS issuedAt, issued_by AS issuedBy, admission_sha256 AS admissionSha256, his_mrn AS hisMrn,
  his_encounter AS hisEncounter, mapped_at AS mappedAt, mapped_by AS mappedBy FROM downtime_numbers WHERE state = 'issued'`;

/** Every number issued, in the order it was: the mapping report's rows. */
export function issuedNumbers(db: Db): IssuedNumber[] {
  return db.prepare(`${ISSUED} ORDER BY issued_at, number`).all() as IssuedNumber[];
}

export function issuedNumber(db: Db, number: string): IssuedNumber | null {
  return (db.prepare(`${ISSUED} AND number = ?`).get(number) as IssuedNumber | undefined) ?? null;
}

/**
 * A downtime admission filed back as an HL7 A01 (fileback/): unsent → filed
 * on an AA naming its message, or → rejected on an AR; never back, so `serve`
 * and the CLI filing at once cannot send it twice. A send that got no answer
 * leaves it unsent, with why. False when the number was not unsent.
 */
export function moveAdmissionAdt(db: Db, number: string, to: 'filed' | 'rejected' | 'failed', o: { now: Date; ref?: string; error?: string }): boolean {
  return db
    .transaction(() => {
      const row = db.prepare(`SELECT adt_state AS state FROM downtime_numbers WHERE number = ? AND state = 'issued'`).get(number) as { state: string | null } | undefined;
      if (!row || row.state !== null) return false;
      if (to === 'failed') db.prepare('UPDATE downtime_numbers SET adt_error = ?, adt_at = ? WHERE number = ?').run(o.error ?? null, nowIso(o.now), number);
      else db.prepare('UPDATE downtime_numbers SET adt_state = ?, adt_ref = ?, adt_error = ?, adt_at = ? WHERE number = ?').run(to, o.ref ?? null, o.error ?? null, nowIso(o.now), number);
      return true;
    })
    .immediate();
}

/** Where each downtime admission stands in being filed back as an A01 (null: not yet). */
export function admissionAdtStates(db: Db): Map<string, { state: 'filed' | 'rejected' | null; error: string | null }> {
  const rows = db.prepare(`SELECT number, adt_state AS state, adt_error AS error FROM downtime_numbers WHERE state = 'issued'`).all() as { number: string; state: 'filed' | 'rejected' | null; error: string | null }[];
  return new Map(rows.map((r) => [r.number, { state: r.state, error: r.error }]));
}
