import type { Dataset, Patient } from '../../model/ward.js';
import type { PullRequest } from '../types.js';
import type { FhirClient } from './client.js';
import { classifyFlags, latestWeightKg, refId, toAdministration, toAllergyList, toDiagnoses, toOrder } from './normalize.js';
import { practitionerSchema, type CodeableConcept, type FhirPractitioner, type ResourceOf } from './schemas.js';
import { searchMany } from './search-many.js';
import { CLINICAL_TYPES, type ClinicalMemory, type ClinicalRecall, type ClinicalType } from './clinical-memory.js';

/**
 * The clinical half of a pull, for a known set of FHIR patients: active
 * orders, the last 24 h of administrations, allergies, diagnoses, flags and
 * weight, with medications and practitioners resolved. Used by the FHIR
 * census pull and by census feeds (HL7 ADT) that only give the patients.
 */
type Found = { matches: { resourceType: string; id?: string }[]; included: Map<string, { resourceType: string; id?: string }>; serverTime: number | null };
const NONE: Found = { matches: [], included: new Map(), serverTime: null };
const subjectOf = (x: { subject?: { reference?: string }; patient?: { reference?: string } }) => refId((x.subject ?? x.patient)?.reference, 'Patient');

/**
 * The per-patient searches, in CLINICAL_TYPES order. A full search asks for
 * what is current (active orders, the last 24 h of doses); a search for
 * changes asks for everything changed since, whatever its status, so an
 * order stopped since the last pull comes back stopped and drops off.
 */
function searchClinical(client: FhirClient, req: PullRequest, patientIds: string[], changedSince: string | null, warnings: string[]): Promise<Found[]> {
  const subjects = patientIds.map((id) => `Patient/${id}`);
  const since24h = new Date(req.now.getTime() - 86_400_000).toISOString();
  const lu: Record<string, string> = changedSince ? { _lastUpdated: `ge${changedSince}` } : {};
  const go = (d: Dataset, type: ClinicalType, param: string, full: Record<string, string>, changes: Record<string, string>): Promise<Found> =>
    req.datasets.includes(d) && subjects.length ? searchMany(client, type, param, subjects, changedSince ? { ...changes, ...lu } : full, req.signal, warnings) : Promise.resolve(NONE);
  const weight = { code: 'http://loinc.org|29463-7' };
  const diagnoses = { category: 'encounter-diagnosis' };
  return Promise.all([
    go('medications', 'MedicationRequest', 'subject', { status: 'active,on-hold', _include: 'MedicationRequest:medication' }, { _include: 'MedicationRequest:medication' }),
    go('administrations', 'MedicationAdministration', 'subject', { 'effective-time': `ge${since24h}` }, {}),
    go('allergies', 'AllergyIntolerance', 'patient', {}, {}),
    go('conditions', 'Condition', 'subject', diagnoses, diagnoses),
    go('flags', 'Flag', 'subject', { status: 'active' }, {}),
    go('census', 'Observation', 'subject', weight, weight),
  ]);
}

/**
 * The clinical half of a pull, for a known set of FHIR patients: active
 * orders, the last 24 h of administrations, allergies, diagnoses, flags and
 * weight, with medications and practitioners resolved. Used by the FHIR
 * census pull and by census feeds (HL7 ADT) that only give the patients.
 *
 * With a memory, patients seen on the last pull are asked only for what
 * changed since (merged by resource id into what was kept); new patients get
 * the full searches; and a full pull is due every fullPullEveryMinutes.
 */
export async function fetchClinical(
  client: FhirClient,
  req: PullRequest,
  patientIds: string[],
  o: {
    included?: Map<string, { resourceType: string; id?: string }>;
    practitionerRefs?: ({ reference?: string; display?: string } | undefined)[];
    warnings: string[];
    memory?: { store: ClinicalMemory; scope: string };
  },
): Promise<{ practitioners: Map<string, FhirPractitioner>; fill(p: Patient, pid: string): void; mode: 'full' | 'changes' }> {
  const want = (d: Dataset) => req.datasets.includes(d);
  const warnings = o.warnings;
  const wanted = new Set(patientIds);
  const since = new Date(req.now.getTime() - 86_400_000).toISOString();
  const recall = o.memory?.store.recall(o.memory.scope, req.now) ?? null;
  const seenBefore = new Set(recall?.patients ?? []);
  const known = recall ? patientIds.filter((id) => seenBefore.has(id)) : [];
  const newcomers = recall ? patientIds.filter((id) => !seenBefore.has(id)) : patientIds;
  const [fresh, knownAnswers] = await Promise.all([
    searchClinical(client, req, newcomers, null, warnings),
    known.length
      ? searchClinical(client, req, known, recall!.since, warnings).then(
          (found) => ({ found, changesOnly: true }),
          // A server that refuses _lastUpdated gets the full searches instead.
          () => searchClinical(client, req, known, null, warnings).then((found) => ({ found, changesOnly: false })),
        )
      : { found: [] as Found[], changesOnly: true },
  ]);
  const changesOnly = recall !== null && knownAnswers.changesOnly;
  const found = CLINICAL_TYPES.map((type, i): Found => {
    const extra = knownAnswers.found[i] ?? NONE;
    const included = new Map([...fresh[i]!.included, ...extra.included]);
    if (!changesOnly) return { matches: [...fresh[i]!.matches, ...extra.matches], included, serverTime: null };
    // What was kept for patients still here, then what changed, then the newcomers' full answers.
    const byId = new Map<string, { resourceType: string; id?: string }>();
    for (const r of recall.resources[type]) if (wanted.has(subjectOf(r as never) ?? '')) byId.set(r.id ?? '', r);
    for (const r of [...extra.matches, ...fresh[i]!.matches]) byId.set(r.id ?? '', r);
    return { matches: [...byId.values()], included, serverTime: null };
  });
  const [mrs, mas, als, conds, flags, obs] = found as [Found, Found, Found, Found, Found, Found];

  // Medications referenced by id but not included: fetch them, batched.
  const medications = new Map<string, { code?: CodeableConcept }>();
  for (const [key, r] of recall?.referenced ?? []) if (key.startsWith('Medication/')) medications.set(key.slice(11), r as { code?: CodeableConcept });
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
  for (const [key, r] of [...(recall?.referenced ?? []), ...(o.included ?? new Map()), ...mrs.included]) {
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
    // Servers list results in any order, and a merged pull in its own: sheets list them the same way every time.
    for (const xs of m.values()) xs.sort((a, b) => ((a as { id?: string }).id ?? '').localeCompare((b as { id?: string }).id ?? ''));
    return m;
  };
  const mrBy = group(mrs.matches as ResourceOf<'MedicationRequest'>[]);
  const maBy = group(mas.matches as ResourceOf<'MedicationAdministration'>[]);
  const alBy = group(als.matches as ResourceOf<'AllergyIntolerance'>[]);
  const condBy = group(conds.matches as ResourceOf<'Condition'>[]);
  const flagBy = group(flags.matches as ResourceOf<'Flag'>[]);
  const obsBy = group(obs.matches as ResourceOf<'Observation'>[]);

  if (o.memory && o.memory.store.fullEveryMs > 0) {
    const { store } = o.memory;
    // The next pull asks for changes from when the server answered this one, by the server's own clock
    // (less an overlap for changes committed while it searched); by ours, with a wider margin, if it gave no Date.
    const answered = [...fresh, ...knownAnswers.found].filter((f) => f !== NONE);
    const serverTimes = answered.map((f) => f.serverTime);
    const serverSince = answered.length > 0 && serverTimes.every((t) => t !== null) ? Math.min(...(serverTimes as number[])) - store.overlapMs : null;
    store.remember(o.memory.scope, {
      since: new Date(serverSince ?? req.now.getTime() - store.ownClockOverlapMs).toISOString(),
      fullAt: changesOnly ? recall.fullAt : req.now.getTime(),
      patients: patientIds,
      resources: Object.fromEntries(CLINICAL_TYPES.map((t, i) => [t, found[i]!.matches])) as ClinicalRecall['resources'],
      referenced: [...[...medications].map(([id, m]): [string, { resourceType: string; id?: string }] => [`Medication/${id}`, { resourceType: 'Medication', id, ...m }]), ...[...practitioners].map(([id, p]): [string, { resourceType: string; id?: string }] => [`Practitioner/${id}`, p])],
    });
  }

  return {
    mode: changesOnly ? 'changes' : 'full',
    practitioners,
    fill(p, pid) {
      if (want('medications')) {
        const items = (mrBy.get(pid) ?? []).filter((m) => m.status === 'active' || m.status === 'on-hold').map((m) => toOrder(m, medications, practitioners));
        items.sort((a, b) => a.drug.localeCompare(b.drug, 'vi'));
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
export async function clinicalForMrns(client: FhirClient, req: PullRequest, patients: Patient[], memory?: { store: ClinicalMemory; scope: string }): Promise<{ patients: Patient[]; warnings: string[] }> {
  const warnings: string[] = [];
  const mrns = [...new Set(patients.map((p) => p.mrn).filter((m): m is string => !!m))];
  const found = mrns.length ? await searchMany(client, 'Patient', 'identifier', mrns, {}, req.signal, warnings) : { matches: [] };
  const fhirIdOf = new Map<string, string>();
  const wanted = new Set(mrns);
  for (const fp of found.matches) for (const id of fp.identifier ?? []) if (id.value && wanted.has(id.value) && !fhirIdOf.has(id.value)) fhirIdOf.set(id.value, fp.id);
  const clinical = await fetchClinical(client, req, [...new Set(fhirIdOf.values())], { warnings, memory });
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
