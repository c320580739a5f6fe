/**
 * Vital signs as LOINC names them, with UCUM units: what both file-back
 * routes send (the FHIR vital-signs profile's codes; HL7 OBX-3 and OBX-6).
 * In the order of the record page's form.
 */
export interface VitalCode {
  /** The field of a vitals entry (model/downtime-entry.ts). */
  field: 'temperatureC' | 'pulse' | 'systolic' | 'diastolic' | 'respiratoryRate' | 'spo2' | 'pain';
  loinc: string;
  display: string;
  /** As people write it, and its UCUM code. */
  unit: string;
  ucum: string;
}

export const VITAL_CODES: readonly VitalCode[] = [
  { field: 'temperatureC', loinc: '8310-5', display: 'Body temperature', unit: '°C', ucum: 'Cel' },
  { field: 'pulse', loinc: '8867-4', display: 'Heart rate', unit: '/min', ucum: '/min' },
  { field: 'systolic', loinc: '8480-6', display: 'Systolic blood pressure', unit: 'mmHg', ucum: 'mm[Hg]' },
  { field: 'diastolic', loinc: '8462-4', display: 'Diastolic blood pressure', unit: 'mmHg', ucum: 'mm[Hg]' },
  { field: 'respiratoryRate', loinc: '9279-1', display: 'Respiratory rate', unit: '/min', ucum: '/min' },
  { field: 'spo2', loinc: '2708-6', display: 'Oxygen saturation in Arterial blood', unit: '%', ucum: '%' },
  { field: 'pain', loinc: '72514-3', display: 'Pain severity - 0-10 verbal numeric rating [Score] - Reported', unit: '{score}', ucum: '{score}' },
];

/** FHIR sends a blood pressure as this panel, its two numbers as components. */
export const BLOOD_PRESSURE_PANEL = { loinc: '85354-9', display: 'Blood pressure panel with all children optional' };

/** The measurements a vitals entry holds, in that order. */
export const vitalValues = (entry: object): { code: VitalCode; value: number }[] =>
  VITAL_CODES.flatMap((code) => {
    const value = (entry as Record<string, unknown>)[code.field];
    return typeof value === 'number' ? [{ code, value }] : [];
  });
