import type { Patient, WardSnapshot } from './ward.js';

/** Fold case and strip diacritics so "nguyen" finds "Nguyễn" and "dang" finds "Đặng". */
export function foldForSearch(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase()
    .trim();
}

/** The codes of one code system (ATC, RxNorm …) among "system|code" strings, upper-cased for prefix matching. */
export function codesIn(codes: readonly string[], system: RegExp): string[] {
  return codes.flatMap((sc) => {
    const bar = sc.indexOf('|');
    return system.test(sc.slice(0, bar)) ? [sc.slice(bar + 1).toUpperCase()] : [];
  });
}

/** Initials for print job names: "Nguyễn Thị Hồng" → "NTH". Never the full name. */
export function initials(name: string | null): string {
  if (!name) return '?';
  return foldForSearch(name)
    .split(/[\s,.-]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase())
    .join('')
    .slice(0, 4);
}

/** The age to print: "51", or "~51" when the birth date is only a year or a month. */
export function ageLabel(birthDate: string | null, at: Date): string | null {
  const age = ageInYears(birthDate, at);
  if (age === null) return null;
  return /^\d{4}-\d{2}-\d{2}$/.test(birthDate!) ? String(age) : `~${age}`;
}

/** Whole years between birth date and a reference moment; null when unknown. */
export function ageInYears(birthDate: string | null, at: Date): number | null {
  if (!birthDate || !/^\d{4}(-\d{2}(-\d{2})?)?$/.test(birthDate)) return null;
  const [y, m = 1, d = 1] = birthDate.split('-').map(Number) as [number, number?, number?];
  let age = at.getUTCFullYear() - y;
  const beforeBirthday = at.getUTCMonth() + 1 < m || (at.getUTCMonth() + 1 === m && at.getUTCDate() < d);
  if (beforeBirthday) age -= 1;
  return age >= 0 ? age : null;
}

export function patientById(snapshot: WardSnapshot): Map<string, Patient> {
  return new Map(snapshot.patients.map((p) => [p.id, p]));
}

/**
 * Who is in each bed, from each patient's own bed: a bed's single patientId
 * cannot hold two patients, and a census built from it dropped the second.
 * Patients whose bed is not on the ward's map (or who have none) are apart.
 */
export function bedOccupancy(snapshot: WardSnapshot): { byBed: Map<string, Patient[]>; noBed: Patient[]; conflicts: Set<string> } {
  const beds = new Set(snapshot.beds.map((b) => b.id));
  const byBed = new Map<string, Patient[]>();
  const noBed: Patient[] = [];
  for (const p of snapshot.patients) {
    if (p.bedId && beds.has(p.bedId)) (byBed.get(p.bedId) ?? byBed.set(p.bedId, []).get(p.bedId)!).push(p);
    else noBed.push(p);
  }
  const conflicts = new Set([...byBed].filter(([, ps]) => ps.length > 1).map(([id]) => id));
  return { byBed, noBed, conflicts };
}

/** Patients in bed order (beds first, then anyone without a bed), for stable paper order. */
export function patientsInBedOrder(snapshot: WardSnapshot): Patient[] {
  const byId = patientById(snapshot);
  const seen = new Set<string>();
  const out: Patient[] = [];
  const { byBed } = bedOccupancy(snapshot);
  for (const bed of snapshot.beds) {
    const here = byBed.get(bed.id) ?? (bed.patientId && byId.get(bed.patientId) ? [byId.get(bed.patientId)!] : []);
    for (const p of here) {
      if (seen.has(p.id)) continue;
      out.push(p);
      seen.add(p.id);
    }
  }
  for (const p of snapshot.patients) if (!seen.has(p.id)) out.push(p);
  return out;
}

/** Natural sort for bed labels: "2" < "10", "3A-2" < "3A-10". */
export function compareLabels(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' });
}

/** Address-safe key for a patient's documents: the MRN when known, else the source id. */
export function patientKey(p: Patient): string {
  return keyOf(p.mrn ?? `id-${p.id}`);
}

/** The same key from an identifier alone: a downtime admission's number is her MRN on the box. */
export const keyOf = (identifier: string): string => identifier.replace(/[^A-Za-z0-9._-]/g, '_');
