import { isHighAlertDrug } from '../../model/high-alert.js';
import type { Bed, Patient } from '../../model/ward.js';
import { ExportFormatError } from './formats.js';
import type { InsuranceExport, InsuranceRecord } from './insurance-xml.js';

/**
 * Which of this box's wards each insurance record belongs to, by its
 * department code (MA_KHOA): the source's `wards` map, or a code equal to a
 * ward id. Records already discharged when the file was written are not on
 * any ward. A file none of whose records is for a ward here is refused: it
 * is the wrong export, or the map is missing a code.
 */
export function splitByWard(exp: InsuranceExport, wardOf: (code: string) => string | null, writtenAt: Date): { byWard: Map<string, InsuranceRecord[]>; otherCodes: string[]; discharged: number } {
  const byWard = new Map<string, InsuranceRecord[]>();
  const other = new Set<string>();
  let discharged = 0;
  for (const r of exp.records) {
    const ward = wardOf(r.wardCode);
    if (!ward) {
      other.add(r.wardCode);
      continue;
    }
    const list = byWard.get(ward) ?? [];
    byWard.set(ward, list);
    if (r.dischargedAt && new Date(r.dischargedAt) <= writtenAt) {
      discharged++;
      continue;
    }
    list.push(r);
  }
  const codes = [...other].map((c) => c.slice(0, 20)).sort();
  if (byWard.size === 0) throw new ExportFormatError(`no record is for a ward on this box: department code${codes.length > 1 ? 's' : ''} ${codes.join(', ')} ${codes.length > 1 ? 'are' : 'is'} not in this source's wards map`);
  return { byWard, otherCodes: codes, discharged };
}

/** A ward's insurance records as beds and patients, orders included. */
export function insuranceToWard(records: InsuranceRecord[]): { beds: Bed[]; patients: Patient[] } {
  const beds = new Map<string, Bed>();
  const patients = records.map((r): Patient => {
    let bedId: string | null = null;
    if (r.bed) {
      const bed = beds.get(r.bed) ?? { id: `bed-${r.bed}`, label: r.bed, room: null, patientId: null };
      beds.set(r.bed, bed);
      bed.patientId = `mrn-${r.mrn}`;
      bedId = bed.id;
    }
    return {
      id: `mrn-${r.mrn}`,
      mrn: r.mrn,
      name: r.name,
      birthDate: r.birthDate,
      sex: r.sex,
      bedId,
      admittedAt: r.admittedAt,
      attending: null,
      admittingDiagnosis: r.diagnosis,
      codeStatus: null,
      isolation: [],
      flags: [],
      weightKg: r.weightKg,
      diagnoses: r.icd || r.diagnosis ? { status: 'available', items: [{ text: r.diagnosis ?? r.icd!, code: r.icd }] } : { status: 'not-pulled', items: [] },
      // The insurance tables have no allergy field: say it was not in the data, never that there are none.
      allergies: { status: 'not-pulled', items: [] },
      orders: {
        status: 'available',
        items: r.orders.map((o, i) => ({
          id: `${r.linkCode}-${i + 1}`,
          drug: o.drug,
          dose: o.dose,
          route: o.route,
          frequency: o.frequency,
          scheduledTimes: [],
          prn: false,
          prnReason: null,
          start: o.orderedAt,
          end: null,
          orderedBy: o.orderedBy,
          highAlert: isHighAlertDrug(o.drug),
          status: 'active' as const,
          instructions: o.instructions,
        })),
      },
      administrations: { status: 'not-pulled', since: null, items: [] },
      bandIds: [
        ...(r.recordNo ? [{ kind: 'admission' as const, value: r.recordNo }] : []),
        ...(r.insuranceCard ? [{ kind: 'insurance' as const, value: r.insuranceCard }] : []),
        ...(r.citizenId ? [{ kind: 'citizen' as const, value: r.citizenId }] : []),
      ],
      clinicalCourse: r.course,
    };
  });
  return { beds: [...beds.values()], patients };
}
