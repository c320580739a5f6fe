import type { WardSnapshot } from './ward.js';

/**
 * What a sheet can hold. A source that sends a 40 kB name once ran a render
 * thread to 1.3 GB and held up every later run; a value past its bound is cut
 * with a visible mark, and the ward still prints. Dates no patient can have (a
 * birth date in the future or not on the calendar, an admission after the
 * pull) are not printed as if real: they become unknown, and the census says
 * how many. Pure: the run applies it to every source's ward.
 */
export const LIMITS = {
  name: 200,
  mrn: 64,
  bed: 32,
  short: 120, // dose, route, frequency, code status, sex-like fields
  text: 300, // drug, substance, reaction, diagnosis, flag, prescriber
  long: 1500, // the prescriber's instructions
} as const;

export const CUT_MARK = '…[✂]';

export interface BoundReport {
  /** Values cut to their bound. */
  cut: number;
  /** Dates that cannot be real, now unknown. */
  implausible: number;
}

const cut = (v: string | null | undefined, max: number, r: BoundReport): string | null => {
  if (v == null) return v ?? null;
  if (v.length <= max) return v;
  r.cut++;
  return `${v.slice(0, max)}${CUT_MARK}`;
};

const isCalendarDate = (s: string): boolean => {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(s);
  if (!m) return false;
  const [y, mo = 1, d = 1] = [Number(m[1]), m[2] ? Number(m[2]) : 1, m[3] ? Number(m[3]) : 1];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
};

export function boundWard(snap: WardSnapshot): BoundReport {
  const r: BoundReport = { cut: 0, implausible: 0 };
  const asOf = Date.parse(snap.asOf);
  const oldest = new Date(asOf).getUTCFullYear() - 130;
  for (const b of snap.beds) {
    b.label = cut(b.label, LIMITS.bed, r)!;
    b.room = cut(b.room, LIMITS.text, r);
  }
  for (const p of snap.patients) {
    p.name = cut(p.name, LIMITS.name, r);
    p.mrn = cut(p.mrn, LIMITS.mrn, r);
    p.attending = cut(p.attending, LIMITS.text, r);
    p.admittingDiagnosis = cut(p.admittingDiagnosis, LIMITS.text, r);
    p.codeStatus = cut(p.codeStatus, LIMITS.short, r);
    p.isolation = p.isolation.map((x) => cut(x, LIMITS.text, r)!);
    for (const f of p.flags) f.text = cut(f.text, LIMITS.text, r)!;
    for (const d of p.diagnoses.items) d.text = cut(d.text, LIMITS.text, r)!;
    for (const a of p.allergies.items) {
      a.substance = cut(a.substance, LIMITS.text, r)!;
      a.reaction = cut(a.reaction, LIMITS.text, r);
    }
    for (const o of p.orders.items) {
      o.drug = cut(o.drug, LIMITS.text, r)!;
      o.dose = cut(o.dose, LIMITS.short, r);
      o.route = cut(o.route, LIMITS.short, r);
      o.frequency = cut(o.frequency, LIMITS.short, r);
      o.prnReason = cut(o.prnReason, LIMITS.text, r);
      o.orderedBy = cut(o.orderedBy, LIMITS.text, r);
      o.instructions = cut(o.instructions, LIMITS.long, r);
    }
    for (const x of p.administrations.items) {
      x.drug = cut(x.drug, LIMITS.text, r)!;
      x.dose = cut(x.dose, LIMITS.short, r);
      x.by = cut(x.by, LIMITS.text, r);
      x.reason = cut(x.reason, LIMITS.text, r);
    }
    if (p.birthDate && (!isCalendarDate(p.birthDate) || Date.parse(p.birthDate.padEnd(10, '-01').slice(0, 10)) > asOf || Number(p.birthDate.slice(0, 4)) < oldest)) {
      p.birthDate = null;
      r.implausible++;
    }
    // An admission after the data was read cannot be (a day's grace for clocks and zones).
    if (p.admittedAt && (Number.isNaN(Date.parse(p.admittedAt)) || Date.parse(p.admittedAt) > asOf + 86_400_000)) {
      p.admittedAt = null;
      r.implausible++;
    }
  }
  return r;
}
