import type { Result, ResultList } from '../model/ward.js';
import { rng } from './generator.js';

/** The demo's laboratory tests and vital signs (LOINC, UCUM), with the reference ranges a laboratory prints. */
export const LABS = [
  { loinc: '2823-3', name: 'Potassium', unit: 'mmol/L', low: 3.5, high: 5.1, mean: 4.2, sd: 0.6, digits: 1 },
  { loinc: '2951-2', name: 'Sodium', unit: 'mmol/L', low: 135, high: 145, mean: 139, sd: 4, digits: 0 },
  { loinc: '2160-0', name: 'Creatinine', unit: 'µmol/L', low: 62, high: 106, mean: 95, sd: 35, digits: 0 },
  { loinc: '718-7', name: 'Hemoglobin', unit: 'g/L', low: 120, high: 160, mean: 122, sd: 18, digits: 0 },
  { loinc: '2345-7', name: 'Glucose', unit: 'mmol/L', low: 3.9, high: 6.1, mean: 7, sd: 2.2, digits: 1 },
] as const;
export const VITALS = [
  { loinc: '8310-5', name: 'Body temperature', unit: 'Cel', mean: 37.1, sd: 0.6, digits: 1 },
  { loinc: '8867-4', name: 'Heart rate', unit: '/min', mean: 84, sd: 14, digits: 0 },
  { loinc: '9279-1', name: 'Respiratory rate', unit: '/min', mean: 18, sd: 3, digits: 0 },
  { loinc: '59408-5', name: 'Oxygen saturation', unit: '%', mean: 96, sd: 2, digits: 0 },
] as const;

const hash = (s: string) => [...s].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7);

/**
 * A patient's recent results: one or two draws of each test in the last
 * 72 h, vital signs every 8 h over the last 24 h. From a generator seeded by
 * the patient's id, so the ward's other synthetic data stays as it was.
 */
export function syntheticResults(patientId: string, now: Date): ResultList {
  const r = rng(hash(patientId));
  const gauss = (mean: number, sd: number) => mean + sd * (r.next() + r.next() + r.next() - 1.5) * 1.4;
  const round = (v: number, digits: number) => Number(v.toFixed(digits));
  const items: Result[] = [];
  for (const lab of LABS) {
    for (let k = 0; k < r.int(1, 2); k++) {
      const value = round(gauss(lab.mean, lab.sd), lab.digits);
      items.push({ category: 'laboratory', name: lab.name, value: String(value), unit: lab.unit, range: `${lab.low}–${lab.high}`, flag: value < lab.low ? 'L' : value > lab.high ? 'H' : null, at: new Date(now.getTime() - (6 + k * 30 + r.int(0, 10)) * 3_600_000).toISOString(), preliminary: false });
    }
  }
  for (let h = 2; h < 24; h += 8) {
    const at = new Date(now.getTime() - h * 3_600_000).toISOString();
    for (const v of VITALS) items.push({ category: 'vital-signs', name: v.name, value: String(round(gauss(v.mean, v.sd), v.digits)), unit: v.unit, range: null, flag: null, at, preliminary: false });
    items.push({ category: 'vital-signs', name: 'Blood pressure', value: `${Math.round(gauss(128, 16))}/${Math.round(gauss(78, 10))}`, unit: 'mm[Hg]', range: null, flag: null, at, preliminary: false });
  }
  return { status: 'available', since: new Date(now.getTime() - 72 * 3_600_000).toISOString(), items: items.sort((a, b) => Date.parse(b.at) - Date.parse(a.at)) };
}
