import type { Bed, Dataset, Patient, WardSnapshot } from '../../model/ward.js';
import { compareLabels } from '../../model/helpers.js';
import { SourceError } from '../http.js';
import type { FhirClient } from './client.js';
import {
  basePatient,
  classifyFlags,
  latestWeightKg,
  refId,
  toAdministration,
  toAllergyList,
  toDiagnoses,
  toOrder,
} from './normalize.js';
import { patientSchema, practitionerSchema, type CodeableConcept, type FhirLocation, type FhirPatient, type FhirPractitioner, type ResourceOf, type ResourceType } from './schemas.js';
import type { PullRequest } from '../types.js';

/** References per search: keeps URLs well under the 2–8 kB limits of proxies in front of EHRs. */
const CHUNK = 40;

const chunks = <T>(xs: T[], n = CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};

const physicalCode = (l: FhirLocation) => l.physicalType?.coding?.find((c) => c.code)?.code ?? null;

export interface FhirPullContext {
  client: FhirClient;
  source: { id: string; system: string; location: string | null };
  mrnSystem?: string;
}

/** Search by a list of ids or references, a chunk per request, chunks in parallel (the HTTP layer bounds concurrency). */
async function searchMany<T extends ResourceType>(
  client: FhirClient,
  type: T,
  param: string,
  values: string[],
  extra: Record<string, string>,
  signal: AbortSignal,
  warnings: string[],
): Promise<{ matches: ResourceOf<T>[]; included: Map<string, { resourceType: string; id?: string }> }> {
  const results = await Promise.all(chunks([...new Set(values)]).map((c) => client.search(type, { [param]: c.join(','), ...extra }, signal)));
  const included = new Map<string, { resourceType: string; id?: string }>();
  const seen = new Set<string>();
  const matches: ResourceOf<T>[] = [];
  for (const r of results) {
    warnings.push(...r.warnings);
    for (const [k, v] of r.included) included.set(k, v);
    for (const m of r.matches) {
      const id = (m as { id?: string }).id ?? '';
      if (seen.has(id)) continue;
      seen.add(id);
      matches.push(m);
    }
  }
  return { matches, included };
}

/** Walk Location.partOf downwards from the ward: rooms and beds, however deep. */
async function locationTree(client: FhirClient, wardLocationId: string, signal: AbortSignal, warnings: string[]): Promise<{ ward: FhirLocation; all: FhirLocation[] }> {
  const root = await client.search('Location', { _id: wardLocationId }, signal);
  const ward = root.matches.find((l) => l.id === wardLocationId);
  if (!ward) throw new SourceError(`the ward location Location/${wardLocationId} does not exist on the server; check scope.location in the snapshot job`, { retryable: false, code: 'no-ward' });
  const all: FhirLocation[] = [ward];
  const seen = new Set([ward.id]);
  let frontier = [ward.id];
  for (let depth = 0; frontier.length > 0 && depth < 6; depth++) {
    const children = await searchMany(client, 'Location', 'partof', frontier.map((id) => `Location/${id}`), {}, signal, warnings);
    frontier = [];
    for (const c of children.matches) {
      const parent = refId(c.partOf?.reference, 'Location');
      // A server that ignores `partof` returns every location: keep only real children.
      if (seen.has(c.id) || !parent || !seen.has(parent)) continue;
      seen.add(c.id);
      all.push(c);
      frontier.push(c.id);
    }
  }
  return { ward, all };
}

export async function pullWardFromFhir(ctx: FhirPullContext, req: PullRequest): Promise<WardSnapshot> {
  const { client } = ctx;
  const { signal } = req;
  const want = (d: Dataset) => req.datasets.includes(d);
  const warnings: string[] = [];
  const asOf = req.now.toISOString();
  const wardLocationId = refId(req.location, 'Location') ?? req.location;

  const tree = await locationTree(client, wardLocationId, signal, warnings);
  const parentOf = new Map(tree.all.map((l) => [l.id, refId(l.partOf?.reference, 'Location')]));
  const hasChildren = new Set([...parentOf.values()].filter(Boolean) as string[]);
  // Beds are locations typed "bd"; a server without physical types gets its leaves treated as beds.
  const typed = tree.all.some((l) => physicalCode(l) === 'bd');
  const bedLocations = tree.all.filter((l) => l.id !== tree.ward.id && (typed ? physicalCode(l) === 'bd' : !hasChildren.has(l.id)));
  const beds: Bed[] = bedLocations
    .map((l) => {
      const parent = parentOf.get(l.id);
      const room = parent && parent !== tree.ward.id ? tree.all.find((x) => x.id === parent)?.name ?? null : null;
      return { id: l.id, label: l.name ?? l.id, room, patientId: null };
    })
    .sort((a, b) => compareLabels(a.label, b.label));
  const bedIds = new Set(beds.map((b) => b.id));

  const enc = await searchMany(client, 'Encounter', 'location', tree.all.map((l) => `Location/${l.id}`), { status: 'in-progress', _include: 'Encounter:subject' }, signal, warnings);
  // Filter again: a server that ignores `status` must not bring back discharged patients.
  const encounters = enc.matches.filter((e) => e.status === 'in-progress' && refId(e.subject?.reference, 'Patient'));
  const byPatient = new Map<string, (typeof encounters)[number]>();
  for (const e of encounters) {
    const pid = refId(e.subject?.reference, 'Patient')!;
    const prev = byPatient.get(pid);
    if (!prev || (e.period?.start ?? '') > (prev.period?.start ?? '')) byPatient.set(pid, e);
  }
  const patientIds = [...byPatient.keys()];

  // Patients: use what the server included, fetch the rest ourselves (many servers ignore _include).
  const patients = new Map<string, FhirPatient>();
  for (const [key, r] of enc.included) {
    if (!key.startsWith('Patient/')) continue;
    const ok = patientSchema.safeParse(r);
    if (ok.success) patients.set(ok.data.id, ok.data);
  }
  const missing = patientIds.filter((id) => !patients.has(id));
  if (missing.length > 0) {
    const fetched = await searchMany(client, 'Patient', '_id', missing, {}, signal, warnings);
    for (const p of fetched.matches) patients.set(p.id, p);
  }
  const lost = patientIds.filter((id) => !patients.has(id));
  if (lost.length > 0) throw new SourceError(`${lost.length} patient(s) on the census could not be read from the server (an encounter points to a missing Patient)`, { retryable: false, code: 'missing-patient' });

  const subjects = patientIds.map((id) => `Patient/${id}`);
  const since = new Date(req.now.getTime() - 86_400_000).toISOString();
  const none = { matches: [], included: new Map() };
  const [mrs, mas, als, conds, flags, obs] = await Promise.all([
    want('medications') && subjects.length ? searchMany(client, 'MedicationRequest', 'subject', subjects, { status: 'active,on-hold', _include: 'MedicationRequest:medication' }, signal, warnings) : none,
    want('administrations') && subjects.length ? searchMany(client, 'MedicationAdministration', 'subject', subjects, { 'effective-time': `ge${since}` }, signal, warnings) : none,
    want('allergies') && subjects.length ? searchMany(client, 'AllergyIntolerance', 'patient', subjects, {}, signal, warnings) : none,
    want('conditions') && subjects.length ? searchMany(client, 'Condition', 'subject', subjects, { category: 'encounter-diagnosis' }, signal, warnings) : none,
    want('flags') && subjects.length ? searchMany(client, 'Flag', 'subject', subjects, { status: 'active' }, signal, warnings) : none,
    want('census') && subjects.length ? searchMany(client, 'Observation', 'subject', subjects, { code: 'http://loinc.org|29463-7' }, signal, warnings) : none,
  ]);

  // Medications referenced by id but not included: fetch them, batched.
  const medications = new Map<string, { code?: CodeableConcept }>();
  for (const [key, r] of [...mrs.included, ...mas.included]) if (key.startsWith('Medication/')) medications.set(key.slice(11), r as { code?: CodeableConcept });
  const medRefs = [...(mrs.matches as ResourceOf<'MedicationRequest'>[]), ...(mas.matches as ResourceOf<'MedicationAdministration'>[])]
    .map((r) => refId(r.medicationReference?.reference, 'Medication'))
    .filter((id): id is string => !!id && !medications.has(id));
  if (medRefs.length > 0) {
    const meds = await searchMany(client, 'Medication', '_id', medRefs, {}, signal, warnings);
    for (const m of meds.matches) if (m.id) medications.set(m.id, m);
  }

  // Practitioners named only by reference: fetch once, batched.
  const practitioners = new Map<string, FhirPractitioner>();
  for (const [key, r] of [...enc.included, ...mrs.included]) {
    if (!key.startsWith('Practitioner/')) continue;
    const ok = practitionerSchema.safeParse(r);
    if (ok.success) practitioners.set(ok.data.id, ok.data);
  }
  const needPr = new Set<string>();
  const addPr = (ref?: { reference?: string; display?: string }) => {
    const id = refId(ref?.reference, 'Practitioner');
    if (id && !ref?.display && !practitioners.has(id)) needPr.add(id);
  };
  for (const e of byPatient.values()) for (const p of e.participant ?? []) addPr(p.individual);
  for (const m of mrs.matches as ResourceOf<'MedicationRequest'>[]) addPr(m.requester);
  for (const a of mas.matches as ResourceOf<'MedicationAdministration'>[]) addPr(a.performer?.[0]?.actor);
  if (needPr.size > 0) {
    const prs = await searchMany(client, 'Practitioner', '_id', [...needPr], {}, signal, warnings);
    for (const p of prs.matches) practitioners.set(p.id, p);
  }

  const group = <T extends { subject?: { reference?: string }; patient?: { reference?: string } }>(xs: T[]) => {
    const m = new Map<string, T[]>();
    for (const x of xs) {
      const pid = refId((x.subject ?? x.patient)?.reference, 'Patient');
      if (!pid || !byPatient.has(pid)) continue; // a server that ignored the subject filter
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

  const out: Patient[] = [];
  const bedById = new Map(beds.map((b) => [b.id, b]));
  for (const [pid, e] of byPatient) {
    const locs = (e.location ?? []).filter((l) => l.status !== 'completed');
    const bedRef = locs.map((l) => refId(l.location.reference, 'Location')).find((id): id is string => !!id && bedIds.has(id)) ?? null;
    const p = basePatient(patients.get(pid)!, e, bedRef, practitioners, ctx.mrnSystem);
    if (bedRef) {
      const bed = bedById.get(bedRef)!;
      if (bed.patientId) warnings.push(`two patients are placed in bed ${bed.label}`);
      else bed.patientId = pid;
    }
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
    out.push(p);
  }
  return {
    ward: req.ward,
    asOf,
    source: ctx.source,
    beds,
    patients: out,
    warnings: [...new Set(warnings)].map((message) => ({ code: 'source-warning' as const, message })),
  };
}
