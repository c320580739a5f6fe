import type { Dataset, Patient } from '../../model/ward.js';
import type { PullRequest } from '../types.js';
import type { FhirClient } from './client.js';
import { classifyFlags, latestWeightKg, refId, toAdministration, toAllergyList, toDiagnoses, toOrder } from './normalize.js';
import { practitionerSchema, type CodeableConcept, type FhirPractitioner, type ResourceOf } from './schemas.js';
import { searchMany } from './search-many.js';

/**
 * The clinical half of a pull, for a known set of FHIR patients: active
 * orders, the last 24 h of administrations, allergies, diagnoses, flags and
 * weight, with medications and practitioners resolved. Used by the FHIR
 * census pull and by census feeds (HL7 ADT) that only give the patients.
 */
export async function fetchClinical(
  client: FhirClient,
  req: PullRequest,
  patientIds: string[],
  o: { included?: Map<string, { resourceType: string; id?: string }>; practitionerRefs?: ({ reference?: string; display?: string } | undefined)[]; warnings: string[] },
): Promise<{ practitioners: Map<string, FhirPractitioner>; fill(p: Patient, pid: string): void }> {
  const want = (d: Dataset) => req.datasets.includes(d);
  const warnings = o.warnings;
  const subjects = patientIds.map((id) => `Patient/${id}`);
  const wanted = new Set(patientIds);
  const since = new Date(req.now.getTime() - 86_400_000).toISOString();
  const none = { matches: [], included: new Map() };
  const [mrs, mas, als, conds, flags, obs] = await Promise.all([
    want('medications') && subjects.length ? searchMany(client, 'MedicationRequest', 'subject', subjects, { status: 'active,on-hold', _include: 'MedicationRequest:medication' }, req.signal, warnings) : none,
    want('administrations') && subjects.length ? searchMany(client, 'MedicationAdministration', 'subject', subjects, { 'effective-time': `ge${since}` }, req.signal, warnings) : none,
    want('allergies') && subjects.length ? searchMany(client, 'AllergyIntolerance', 'patient', subjects, {}, req.signal, warnings) : none,
    want('conditions') && subjects.length ? searchMany(client, 'Condition', 'subject', subjects, { category: 'encounter-diagnosis' }, req.signal, warnings) : none,
    want('flags') && subjects.length ? searchMany(client, 'Flag', 'subject', subjects, { status: 'active' }, req.signal, warnings) : none,
    want('census') && subjects.length ? searchMany(client, 'Observation', 'subject', subjects, { code: 'http://loinc.org|29463-7' }, req.signal, warnings) : none,
  ]);

  // Medications referenced by id but not included: fetch them, batched.
  const medications = new Map<string, { code?: CodeableConcept }>();
  for (const [key, r] of [...mrs.included, ...mas.included]) if (key.startsWith('Medication/')) medications.set(key.slice(11), r as { code?: CodeableConcept });
  const medRefs = [...(mrs.matches as ResourceOf<'MedicationRequest'>[]), ...(mas.matches as ResourceOf<'MedicationAdministration'>[])]
    .map((r) => refId(r.medicationReference?.reference, 'Medication'))
    .filter((id): id is string => !!id && !medications.has(id));
  if (medRefs.length > 0) {
    const meds = await searchMany(client, 'Medication', '_id', medRefs, {}, req.signal, warnings);
    for (const m of meds.matches) if (m.id) medications.set(m.id, m);
  }

  // Practitioners named only by reference: fetch once, batched.
  const practitioners = new Map<string, FhirPractitioner>();
  for (const [key, r] of [...(o.included ?? new Map()), ...mrs.included]) {
    if (!key.startsWith('Practitioner/')) continue;
    const ok = practitionerSchema.safeParse(r);
    if (ok.success) practitioners.set(ok.data.id, ok.data);
  }
  const needPr = new Set<string>();
  const addPr = (ref?: { reference?: string; display?: string }) => {
    const id = refId(ref?.reference, 'Practitioner');
    if (id && !ref?.display && !practitioners.has(id)) needPr.add(id);
  };
  for (const ref of o.practitionerRefs ?? []) addPr(ref);
  for (const m of mrs.matches as ResourceOf<'MedicationRequest'>[]) addPr(m.requester);
  for (const a of mas.matches as ResourceOf<'MedicationAdministration'>[]) addPr(a.performer?.[0]?.actor);
  if (needPr.size > 0) {
    const prs = await searchMany(client, 'Practitioner', '_id', [...needPr], {}, req.signal, warnings);
    for (const p of prs.matches) practitioners.set(p.id, p);
  }

  const group = <T extends { subject?: { reference?: string }; patient?: { reference?: string } }>(xs: T[]) => {
    const m = new Map<string, T[]>();
    for (const x of xs) {
      const pid = refId((x.subject ?? x.patient)?.reference, 'Patient');
      if (!pid || !wanted.has(pid)) continue; // a server that ignored the subject filter
      (m.get(pid) ?? m.set(pid, []).get(pid)!).push(x);
    }
    return m;
  };
  const mrBy = group(mrs.matches as ResourceOf<'MedicationRequest'>[]);
  const maBy = group(mas.matches as ResourceOf<'MedicationAdministration'>[]);
  const alBy = group(als.matches as ResourceOf<'AllergyIntolerance'>[]);
  const condBy = group(conds.matches as ResourceOf<'Condition'>[]);
  const flagBy = group(flags.matches as ResourceOf<'Flag'>[]);
  const obsBy = group(obs.matches as ResourceOf<'Observation'>[]);


  return {
    practitioners,
    fill(p, pid) {
      if (want('medications')) {
        const items = (mrBy.get(pid) ?? []).filter((m) => m.status === 'active' || m.status === 'on-hold').map((m) => toOrder(m, medications, practitioners));
        p.orders = { status: 'available', items };
      }
      if (want('administrations')) {
        const items = (maBy.get(pid) ?? []).map((a) => toAdministration(a, medications, practitioners)).filter((a): a is NonNullable<typeof a> => !!a && a.at >= since);
        p.administrations = { status: 'available', since, items: items.sort((a, b) => a.at.localeCompare(b.at)) };
      }
      if (want('allergies')) p.allergies = toAllergyList(alBy.get(pid) ?? []);
      if (want('conditions')) p.diagnoses = { status: 'available', items: toDiagnoses(condBy.get(pid) ?? []) };
      if (want('flags')) Object.assign(p, classifyFlags(flagBy.get(pid) ?? []));
      p.weightKg = latestWeightKg(obsBy.get(pid) ?? []);
    },
  };
}

/**
 * Medications, allergies … for patients whose census came from elsewhere
 * (an ADT feed): find each by MRN (Patient?identifier=), then the clinical
 * half as above. A patient the server does not know keeps what the census
 * said, and the snapshot says how many were not found.
 */
export async function clinicalForMrns(client: FhirClient, req: PullRequest, patients: Patient[]): Promise<{ patients: Patient[]; warnings: string[] }> {
  const warnings: string[] = [];
  const mrns = [...new Set(patients.map((p) => p.mrn).filter((m): m is string => !!m))];
  const found = mrns.length ? await searchMany(client, 'Patient', 'identifier', mrns, {}, req.signal, warnings) : { matches: [] };
  const fhirIdOf = new Map<string, string>();
  const wanted = new Set(mrns);
  for (const fp of found.matches) for (const id of fp.identifier ?? []) if (id.value && wanted.has(id.value) && !fhirIdOf.has(id.value)) fhirIdOf.set(id.value, fp.id);
  const clinical = await fetchClinical(client, req, [...new Set(fhirIdOf.values())], { warnings });
  const out = patients.map((p) => {
    const copy = structuredClone(p);
    const fid = p.mrn ? fhirIdOf.get(p.mrn) : undefined;
    if (fid) clinical.fill(copy, fid);
    return copy;
  });
  const missing = patients.filter((p) => !p.mrn || !fhirIdOf.has(p.mrn)).length;
  if (missing > 0) warnings.push(`${missing} patient(s) on the census were not found on the clinical server by MRN: their medication lists are not on this snapshot`);
  return { patients: out, warnings: [...new Set(warnings)] };
}
