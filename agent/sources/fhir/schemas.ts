import { z } from 'zod';

/**
 * The parts of FHIR R4 resources Paperback reads, validated at the boundary.
 * Loose: servers add fields we do not use; only what we read must be well-formed.
 */
const coding = z.object({ system: z.string().optional(), code: z.string().optional(), display: z.string().optional() }).loose();
export const codeableConcept = z.object({ coding: z.array(coding).optional(), text: z.string().optional() }).loose();
export const reference = z.object({ reference: z.string().optional(), display: z.string().optional() }).loose();
const period = z.object({ start: z.string().optional(), end: z.string().optional() }).loose();
const quantity = z.object({ value: z.number().optional(), comparator: z.string().optional(), unit: z.string().optional(), code: z.string().optional() }).loose();
const base = { id: z.string().min(1) };

export const humanName = z.object({ use: z.string().optional(), text: z.string().optional(), family: z.string().optional(), given: z.array(z.string()).optional(), prefix: z.array(z.string()).optional(), suffix: z.array(z.string()).optional(), period: period.optional() }).loose();

export const patientSchema = z.object({
  resourceType: z.literal('Patient'),
  ...base,
  identifier: z.array(z.object({ system: z.string().optional(), value: z.string().optional(), type: codeableConcept.optional() }).loose()).optional(),
  name: z.array(humanName).optional(),
  birthDate: z.string().optional(),
  deceasedBoolean: z.boolean().optional(),
  deceasedDateTime: z.string().optional(),
  gender: z.enum(['male', 'female', 'other', 'unknown']).optional(),
}).loose();

export const practitionerSchema = z.object({ resourceType: z.literal('Practitioner'), ...base, name: z.array(humanName).optional() }).loose();

export const locationSchema = z.object({
  resourceType: z.literal('Location'),
  ...base,
  name: z.string().optional(),
  partOf: reference.optional(),
  physicalType: codeableConcept.optional(),
  status: z.string().optional(),
}).loose();

export const encounterSchema = z.object({
  resourceType: z.literal('Encounter'),
  ...base,
  status: z.string(),
  subject: reference.optional(),
  participant: z.array(z.object({ type: z.array(codeableConcept).optional(), individual: reference.optional() }).loose()).optional(),
  period: period.optional(),
  reasonCode: z.array(codeableConcept).optional(),
  location: z.array(z.object({ location: reference, status: z.string().optional() }).loose()).optional(),
}).loose();

/** A patient list (Epic's Patient Lists, a unit list): entries are Patient references. */
export const listSchema = z.object({
  resourceType: z.literal('List'),
  ...base,
  status: z.string(),
  entry: z.array(z.object({ item: reference, deleted: z.boolean().optional() }).loose()).optional(),
}).loose();

const timing = z.object({
  repeat: z.object({
    frequency: z.number().optional(),
    frequencyMax: z.number().optional(),
    period: z.number().optional(),
    periodMax: z.number().optional(),
    periodUnit: z.string().optional(),
    timeOfDay: z.array(z.string()).optional(),
    when: z.array(z.string()).optional(),
    offset: z.number().optional(),
    dayOfWeek: z.array(z.string()).optional(),
    count: z.number().optional(),
    boundsPeriod: period.optional(),
    boundsDuration: quantity.optional(),
  }).loose().optional(),
  code: codeableConcept.optional(),
}).loose();

const ratio = z.object({ numerator: quantity.optional(), denominator: quantity.optional() }).loose();
const range = z.object({ low: quantity.optional(), high: quantity.optional() }).loose();

export const dosageSchema = z.object({
  sequence: z.number().optional(),
  text: z.string().optional(),
  additionalInstruction: z.array(codeableConcept).optional(),
  patientInstruction: z.string().optional(),
  timing: timing.optional(),
  asNeededBoolean: z.boolean().optional(),
  asNeededCodeableConcept: codeableConcept.optional(),
  route: codeableConcept.optional(),
  doseAndRate: z.array(z.object({ doseQuantity: quantity.optional(), doseRange: range.optional(), rateQuantity: quantity.optional(), rateRatio: ratio.optional(), rateRange: range.optional() }).loose()).optional(),
  maxDosePerPeriod: ratio.optional(),
}).loose();

export const medicationSchema = z.object({
  resourceType: z.literal('Medication'),
  id: z.string().optional(),
  code: codeableConcept.optional(),
  ingredient: z.array(z.object({ itemCodeableConcept: codeableConcept.optional(), itemReference: reference.optional() }).loose()).optional(),
}).loose();

export const medicationRequestSchema = z.object({
  resourceType: z.literal('MedicationRequest'),
  ...base,
  status: z.string(),
  intent: z.string().optional(),
  doNotPerform: z.boolean().optional(),
  subject: reference,
  medicationCodeableConcept: codeableConcept.optional(),
  medicationReference: reference.optional(),
  contained: z.array(z.object({ resourceType: z.string(), id: z.string().optional() }).loose()).optional(),
  authoredOn: z.string().optional(),
  requester: reference.optional(),
  dosageInstruction: z.array(dosageSchema).optional(),
  extension: z.array(z.object({ url: z.string(), valueBoolean: z.boolean().optional() }).loose()).optional(),
}).loose();

export const medicationAdministrationSchema = z.object({
  resourceType: z.literal('MedicationAdministration'),
  ...base,
  status: z.string(),
  subject: reference,
  medicationCodeableConcept: codeableConcept.optional(),
  medicationReference: reference.optional(),
  contained: z.array(z.object({ resourceType: z.string(), id: z.string().optional() }).loose()).optional(),
  effectiveDateTime: z.string().optional(),
  effectivePeriod: period.optional(),
  performer: z.array(z.object({ actor: reference }).loose()).optional(),
  request: reference.optional(),
  statusReason: z.array(codeableConcept).optional(),
  dosage: z.object({ text: z.string().optional(), dose: quantity.optional(), rateQuantity: quantity.optional() }).loose().optional(),
}).loose();

export const allergySchema = z.object({
  resourceType: z.literal('AllergyIntolerance'),
  ...base,
  patient: reference,
  clinicalStatus: codeableConcept.optional(),
  verificationStatus: codeableConcept.optional(),
  criticality: z.enum(['low', 'high', 'unable-to-assess']).optional(),
  category: z.array(z.string()).optional(),
  code: codeableConcept.optional(),
  reaction: z.array(z.object({ manifestation: z.array(codeableConcept).optional(), severity: z.string().optional() }).loose()).optional(),
}).loose();

export const conditionSchema = z.object({
  resourceType: z.literal('Condition'),
  ...base,
  subject: reference,
  clinicalStatus: codeableConcept.optional(),
  verificationStatus: codeableConcept.optional(),
  category: z.array(codeableConcept).optional(),
  code: codeableConcept.optional(),
}).loose();

export const flagSchema = z.object({
  resourceType: z.literal('Flag'),
  ...base,
  status: z.string(),
  subject: reference,
  category: z.array(codeableConcept).optional(),
  code: codeableConcept,
  period: period.optional(),
}).loose();

export const observationSchema = z.object({
  resourceType: z.literal('Observation'),
  ...base,
  status: z.string(),
  subject: reference.optional(),
  code: codeableConcept,
  category: z.array(codeableConcept).optional(),
  effectiveDateTime: z.string().optional(),
  effectivePeriod: period.optional(),
  effectiveInstant: z.string().optional(),
  issued: z.string().optional(),
  valueQuantity: quantity.optional(),
  valueString: z.string().optional(),
  valueCodeableConcept: codeableConcept.optional(),
  valueBoolean: z.boolean().optional(),
  valueInteger: z.number().optional(),
  dataAbsentReason: codeableConcept.optional(),
  interpretation: z.array(codeableConcept).optional(),
  referenceRange: z.array(z.object({ low: quantity.optional(), high: quantity.optional(), text: z.string().optional() }).loose()).optional(),
  component: z.array(z.object({ code: codeableConcept, valueQuantity: quantity.optional(), valueString: z.string().optional(), valueCodeableConcept: codeableConcept.optional(), dataAbsentReason: codeableConcept.optional() }).loose()).optional(),
}).loose();

export const operationOutcomeSchema = z.object({
  resourceType: z.literal('OperationOutcome'),
  issue: z.array(z.object({ severity: z.string(), code: z.string().optional(), diagnostics: z.string().optional(), details: codeableConcept.optional() }).loose()),
}).loose();

export const bundleSchema = z.object({
  resourceType: z.literal('Bundle'),
  type: z.string(),
  total: z.number().optional(),
  link: z.array(z.object({ relation: z.string(), url: z.string() }).loose()).optional(),
  entry: z.array(z.object({ fullUrl: z.string().optional(), resource: z.object({ resourceType: z.string() }).loose().optional(), search: z.object({ mode: z.string().optional() }).loose().optional() }).loose()).optional(),
}).loose();

export type FhirPatient = z.infer<typeof patientSchema>;
export type FhirPractitioner = z.infer<typeof practitionerSchema>;
export type FhirLocation = z.infer<typeof locationSchema>;
export type FhirEncounter = z.infer<typeof encounterSchema>;
export type FhirMedicationRequest = z.infer<typeof medicationRequestSchema>;
export type FhirMedicationAdministration = z.infer<typeof medicationAdministrationSchema>;
export type FhirAllergy = z.infer<typeof allergySchema>;
export type FhirCondition = z.infer<typeof conditionSchema>;
export type FhirFlag = z.infer<typeof flagSchema>;
export type FhirObservation = z.infer<typeof observationSchema>;
export type CodeableConcept = z.infer<typeof codeableConcept>;

export const SCHEMAS = {
  Patient: patientSchema,
  Practitioner: practitionerSchema,
  Location: locationSchema,
  Encounter: encounterSchema,
  MedicationRequest: medicationRequestSchema,
  MedicationAdministration: medicationAdministrationSchema,
  Medication: medicationSchema,
  AllergyIntolerance: allergySchema,
  Condition: conditionSchema,
  Flag: flagSchema,
  Observation: observationSchema,
  List: listSchema,
} as const;
export type ResourceType = keyof typeof SCHEMAS;
export type ResourceOf<T extends ResourceType> = z.infer<(typeof SCHEMAS)[T]>;
