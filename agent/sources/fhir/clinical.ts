import { labWindowStart, recentResults, type Dataset, type Patient } from '../../model/ward.js';
import { toResults } from './results.js';
import type { PullRequest } from '../types.js';
import type { FhirClient } from './client.js';
import { classifyFlags, isActualOrder, latestHeight, latestWeight, refId, toAdministration, toAllergyList, toDiagnoses, toOrders } from './normalize.js';
import { practitionerSchema, type CodeableConcept, type FhirPractitioner, type ResourceOf } from './schemas.js';
import { searchMany } from './search-many.js';
import { CLINICAL_TYPES, pack, resourceTypeOf, unpack, type ClinicalFields, type ClinicalMemory, type ClinicalResources, type ClinicalType, type PatientRecall, type Resource } from './clinical-memory.js';

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
function searchClinical(client: FhirClient, req: PullRequest, patientIds: string[], changedSince: string | null, warnings: string[], onFound: (type: ClinicalType, found: Found) => void): Promise<Found[]> {
  const subjects = patientIds.map((id) => `Patient/${id}`);
  const since24h = new Date(req.now.getTime() - 86_400_000).toISOString();
  const lu: Record<string, string> = changedSince ? { _lastUpdated: `ge${changedSince}` } : {};
  const go = (d: Dataset, type: ClinicalType, param: string, full: Record<string, string>, changes: Record<string, string>): Promise<Found> =>
    req.datasets.includes(d) && subjects.length
      ? searchMany(client, resourceTypeOf(type), param, subjects, changedSince ? { ...changes, ...lu } : full, req.signal, warnings).then((found) => {
          onFound(type, found);
          return found;
        })
      : Promise.resolve(NONE);
  // Body weight and height (LOINC), for doses by weight and the patient band.
  const weight = { code: 'http://loinc.org|29463-7,http://loinc.org|8302-2' };
  const diagnoses = { category: 'encounter-diagnosis,problem-list-item' };
  return Promise.all([
    go('medications', 'MedicationRequest', 'subject', { status: 'active,on-hold', _include: 'MedicationRequest:medication' }, { _include: 'MedicationRequest:medication' }),
    go('administrations', 'MedicationAdministration', 'subject', { 'effective-time': `ge${since24h}` }, {}),
    go('allergies', 'AllergyIntolerance', 'patient', {}, {}),
    go('conditions', 'Condition', 'subject', diagnoses, diagnoses),
    go('flags', 'Flag', 'subject', { status: 'active' }, {}),
    go('census', 'Observation', 'subject', weight, weight),
    // Every observation of the last 72 h, not only those categorised laboratory or vital-signs: many laboratory
    // feeds send none, and a search by category would then print "no results" over real ones (results.ts sorts them).
    go('results', 'Observation:results', 'subject', { date: `ge${labWindowStart(req.now)}` }, {}),
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
  const wanted = new Set(patientIds);
  const recall = o.memory?.store.recall(o.memory.scope, req.now) ?? null;
  const meds = medicationResolver(client, req, wanted, recall, o.warnings);
  const answers = await searchPatients(client, req, patientIds, recall, o.warnings, meds.onFound);
  const touched = answersByPatient(patientIds, wanted, answers, recall);
  const touchedOf = <T>(type: ClinicalType) => [...touched.values()].flatMap((r) => r[type] as T[]);
  // Kept orders and doses of changed patients whose medication was not resolved before are asked for
  // now (an unresolved one of an unchanged patient is asked for again at the next full pull).
  const mrs = touchedOf<ResourceOf<'MedicationRequest'>>('MedicationRequest');
  const mas = touchedOf<ResourceOf<'MedicationAdministration'>>('MedicationAdministration');
  meds.lookUp([...mrs, ...mas].map((r) => refId(r.medicationReference?.reference, 'Medication')));
  await meds.settled();
  // What the order search included besides medications (a server may add the prescriber); the others include nothing.
  const mr = CLINICAL_TYPES.indexOf('MedicationRequest');
  const included = [...(recall?.referenced ?? []), ...(o.included ?? new Map()), ...answers.fresh[mr]!.included, ...(answers.known.found[mr] ?? NONE).included];
  const named = [...(o.practitionerRefs ?? []), ...mrs.map((m) => m.requester), ...mas.map((a) => a.performer?.[0]?.actor)];
  const practitioners = await resolvePractitioners(client, req, included, named, o.warnings);

  const window = { sinceMs: req.now.getTime() - 86_400_000, since: new Date(req.now.getTime() - 86_400_000).toISOString() };
  const fields = new Map<string, ClinicalFields>();
  for (const [pid, res] of touched) fields.set(pid, sheetFields(res, req, { medications: meds.medications, practitioners }, window));
  for (const pid of patientIds) if (!fields.has(pid)) fields.set(pid, unpack<ClinicalFields>(recall!.patients.get(pid)!.fields));
  if (o.memory && o.memory.store.fullEveryMs > 0) rememberPull(o.memory, req, patientIds, { answers, touched, fields, recall, medications: meds.medications, practitioners });
  return { mode: answers.changesOnly ? 'changes' : 'full', practitioners, fill: filler(fields, window, req.now) };
}

type Recall = ReturnType<ClinicalMemory['recall']>;
interface Answers {
  fresh: Found[];
  known: { found: Found[]; changesOnly: boolean };
  /** Patients seen before were asked only for what changed (and the server took _lastUpdated). */
  changesOnly: boolean;
}

/**
 * Medications referenced by id but not included (many servers ignore
 * _include) are asked for as soon as the order or dose search that names
 * them answers, while the other searches are still out, not in a round trip
 * after them all. Patients nothing changed for had theirs resolved before.
 */
function medicationResolver(client: FhirClient, req: PullRequest, wanted: Set<string>, recall: Recall, warnings: string[]) {
  const medications = new Map<string, { code?: CodeableConcept }>();
  /** Medications among resources keyed "Type/id" (what the last pull resolved, what a search included). */
  const keep = (byKey: Iterable<[string, Resource]>) => {
    for (const [key, r] of byKey) if (key.startsWith('Medication/')) medications.set(key.slice('Medication/'.length), r as { code?: CodeableConcept });
  };
  keep(recall?.referenced ?? []);
  const asked = new Set<string>();
  const lookups: Promise<void>[] = [];
  const lookUp = (refs: (string | null)[]) => {
    const ids = [...new Set(refs)].filter((id): id is string => !!id && !medications.has(id) && !asked.has(id));
    if (ids.length === 0) return;
    for (const id of ids) asked.add(id);
    const lookup = searchMany(client, 'Medication', '_id', ids, {}, req.signal, warnings).then((meds) => {
      for (const m of meds.matches) if (m.id) medications.set(m.id, m);
    });
    lookup.catch(() => undefined); // awaited in settled(); a failure fails the pull there
    lookups.push(lookup);
  };
  const onFound = (type: ClinicalType, found: Found) => {
    if (type !== 'MedicationRequest' && type !== 'MedicationAdministration') return;
    keep(found.included);
    // Only for the patients asked about: a server that ignored the subject filter sends others too.
    const ours = (found.matches as ResourceOf<'MedicationRequest'>[]).filter((r) => wanted.has(subjectOf(r as never) ?? ''));
    lookUp(ours.map((r) => refId(r.medicationReference?.reference, 'Medication')));
  };
  return { medications, lookUp, onFound, settled: () => Promise.all(lookups) };
}

/** Full searches for patients new since the last pull; changes only for the others, or full ones from a server that refuses _lastUpdated. */
async function searchPatients(client: FhirClient, req: PullRequest, patientIds: string[], recall: Recall, warnings: string[], onFound: (type: ClinicalType, found: Found) => void): Promise<Answers> {
  const known = recall ? patientIds.filter((id) => recall.patients.has(id)) : [];
  const newcomers = recall ? patientIds.filter((id) => !recall.patients.has(id)) : patientIds;
  const [fresh, knownAnswers] = await Promise.all([
    searchClinical(client, req, newcomers, null, warnings, onFound),
    known.length
      ? searchClinical(client, req, known, recall!.since, warnings, onFound).then(
          (found) => ({ found, changesOnly: true }),
          () => searchClinical(client, req, known, null, warnings, onFound).then((found) => ({ found, changesOnly: false })),
        )
      : { found: [] as Found[], changesOnly: true },
  ]);
  return { fresh, known: knownAnswers, changesOnly: recall !== null && knownAnswers.changesOnly };
}

/**
 * This pull's answers by patient. After a full pull every patient is here;
 * after a changes-only pull, the newcomers and the patients something changed
 * for, whose changes are merged by id into what was kept for them. Everyone
 * else keeps what the last pull made of her, unopened.
 */
function answersByPatient(patientIds: string[], wanted: Set<string>, answers: Answers, recall: Recall): Map<string, ClinicalResources> {
  const touched = new Map<string, ClinicalResources>();
  const bucket = (pid: string) => touched.get(pid) ?? touched.set(pid, emptyResources()).get(pid)!;
  if (!answers.changesOnly) for (const pid of patientIds) bucket(pid);
  CLINICAL_TYPES.forEach((type, i) => {
    for (const r of [...(answers.known.found[i] ?? NONE).matches, ...answers.fresh[i]!.matches]) {
      const pid = subjectOf(r as never);
      if (pid && wanted.has(pid)) bucket(pid)[type].push(r); // a server that ignored the subject filter
    }
  });
  for (const [pid, changes] of touched) {
    const kept = answers.changesOnly ? recall?.patients.get(pid) : undefined;
    if (kept) touched.set(pid, mergeById(unpack<ClinicalResources>(kept.resources), changes));
  }
  // Servers list results in any order, and a merged pull in its own: sheets list them the same way every time.
  for (const res of touched.values()) for (const type of CLINICAL_TYPES) res[type].sort((a, b) => (a.id ?? '').localeCompare(b.id ?? ''));
  return touched;
}

/** Practitioners the answers included or the last pull resolved; those named only by reference (no display) fetched once, batched. */
async function resolvePractitioners(client: FhirClient, req: PullRequest, included: Iterable<[string, Resource]>, named: ({ reference?: string; display?: string } | undefined)[], warnings: string[]): Promise<Map<string, FhirPractitioner>> {
  const practitioners = new Map<string, FhirPractitioner>();
  for (const [key, r] of included) {
    if (!key.startsWith('Practitioner/')) continue;
    const ok = practitionerSchema.safeParse(r);
    if (ok.success) practitioners.set(ok.data.id, ok.data);
  }
  const need = new Set<string>();
  for (const ref of named) {
    const id = refId(ref?.reference, 'Practitioner');
    if (id && !ref?.display && !practitioners.has(id)) need.add(id);
  }
  if (need.size > 0) {
    const prs = await searchMany(client, 'Practitioner', '_id', [...need], {}, req.signal, warnings);
    for (const p of prs.matches) practitioners.set(p.id, p);
  }
  return practitioners;
}

/** What a patient's resources put on her sheets. */
function sheetFields(res: ClinicalResources, req: PullRequest, resolved: { medications: Map<string, { code?: CodeableConcept }>; practitioners: Map<string, FhirPractitioner> }, window: { since: string; sinceMs: number }): ClinicalFields {
  const want = (d: Dataset) => req.datasets.includes(d);
  const { medications, practitioners } = resolved;
  const f: ClinicalFields = {};
  if (want('medications')) {
    // Proposals, plans and orders no longer in force are not orders to give; a multi-step order keeps its steps in sequence.
    const items = (res.MedicationRequest as ResourceOf<'MedicationRequest'>[]).filter(isActualOrder).flatMap((m) => toOrders(m, medications, practitioners));
    items.sort((a, b) => a.drug.localeCompare(b.drug, 'vi') || a.id.localeCompare(b.id) || (a.step?.index ?? 0) - (b.step?.index ?? 0));
    f.orders = { status: 'available', items };
  }
  if (want('administrations')) {
    // Instants, not strings: "10:00-10:00" is later than "15:00Z" though it sorts before it.
    const items = (res.MedicationAdministration as ResourceOf<'MedicationAdministration'>[]).map((a) => toAdministration(a, medications, practitioners)).filter((a): a is NonNullable<typeof a> => !!a && Date.parse(a.at) >= window.sinceMs);
    f.administrations = { status: 'available', since: window.since, items: items.sort((a, b) => Date.parse(a.at) - Date.parse(b.at)) };
  }
  if (want('allergies')) f.allergies = toAllergyList(res.AllergyIntolerance as ResourceOf<'AllergyIntolerance'>[]);
  if (want('conditions')) f.diagnoses = { status: 'available', items: toDiagnoses(res.Condition as ResourceOf<'Condition'>[]) };
  if (want('flags')) Object.assign(f, classifyFlags(res.Flag as ResourceOf<'Flag'>[], req.now));
  if (want('results')) f.results = recentResults(toResults(res['Observation:results'] as ResourceOf<'Observation'>[]), req.now);
  const weight = latestWeight(res.Observation as ResourceOf<'Observation'>[]);
  const height = latestHeight(res.Observation as ResourceOf<'Observation'>[]);
  Object.assign(f, { weightKg: weight?.value ?? null, weightAt: weight?.at ?? null, heightCm: height?.value ?? null, heightAt: height?.at ?? null });
  return f;
}

/**
 * Keep this pull for the next one. It asks for changes from when the server
 * answered this one, by the server's own clock (less an overlap for changes
 * committed while it searched); by ours, with a wider margin, if it gave no Date.
 */
function rememberPull(
  memory: { store: ClinicalMemory; scope: string },
  req: PullRequest,
  patientIds: string[],
  pull: { answers: Answers; touched: Map<string, ClinicalResources>; fields: Map<string, ClinicalFields>; recall: Recall; medications: Map<string, { code?: CodeableConcept }>; practitioners: Map<string, FhirPractitioner> },
): void {
  const { store } = memory;
  const { answers, recall } = pull;
  const answered = [...answers.fresh, ...answers.known.found].filter((f) => f !== NONE);
  const serverTimes = answered.map((f) => f.serverTime);
  const serverSince = answered.length > 0 && serverTimes.every((t) => t !== null) ? Math.min(...(serverTimes as number[])) - store.overlapMs : null;
  const patients = new Map<string, PatientRecall>();
  for (const pid of patientIds) {
    const res = pull.touched.get(pid);
    patients.set(pid, res ? { resources: pack(res), fields: pack(pull.fields.get(pid)) } : recall!.patients.get(pid)!);
  }
  store.remember(memory.scope, {
    since: new Date(serverSince ?? req.now.getTime() - store.ownClockOverlapMs).toISOString(),
    fullAt: answers.changesOnly ? recall!.fullAt : req.now.getTime(),
    patients,
    referenced: [...[...pull.medications].map(([id, m]): [string, Resource] => [`Medication/${id}`, { resourceType: 'Medication', id, ...m }]), ...[...pull.practitioners].map(([id, p]): [string, Resource] => [`Practitioner/${id}`, p])],
  });
}

/** Puts a patient's fields on her census entry. */
function filler(fields: Map<string, ClinicalFields>, window: { since: string; sinceMs: number }, now: Date): (p: Patient, pid: string) => void {
  const filled = new Set<string>();
  return (p, pid) => {
    const f = fields.get(pid);
    if (!f) return;
    // The last 24 h from this pull's moment: doses kept from an earlier pull move out of the window.
    const administrations = f.administrations && { ...f.administrations, since: window.since, items: f.administrations.items.filter((a) => Date.parse(a.at) >= window.sinceMs) };
    // Results kept from an earlier pull leave their windows too (labs 72 h, vital signs 24 h from this pull).
    const results = f.results && recentResults(f.results.items, now);
    const out = { ...f, ...(administrations ? { administrations } : {}), ...(results ? { results } : {}) };
    // Two census entries for one record (duplicate MRNs) must not share lists.
    Object.assign(p, filled.has(pid) ? structuredClone(out) : out);
    filled.add(pid);
  };
}

const emptyResources = (): ClinicalResources => Object.fromEntries(CLINICAL_TYPES.map((t) => [t, []])) as unknown as ClinicalResources;

/** What was kept for a patient, with this pull's changes put in by id (a changed resource replaces its old version). */
function mergeById(kept: ClinicalResources, changes: ClinicalResources): ClinicalResources {
  const out = emptyResources();
  for (const type of CLINICAL_TYPES) {
    const byId = new Map<string, Resource>();
    for (const r of kept[type]) byId.set(r.id ?? '', r);
    for (const r of changes[type]) byId.set(r.id ?? '', r);
    out[type] = [...byId.values()];
  }
  return out;
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
