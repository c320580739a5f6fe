import type { Administration, Bed, MedicationOrder, OrderTiming, Patient, WardSnapshot } from '../model/ward.js';
import { isHighAlertDrug } from '../model/high-alert.js';
import * as C from './catalog.js';
import { syntheticResults } from './results.js';

/** Small, fast, seedable PRNG (mulberry32): the same seed gives the same hospital on every machine. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const chance = (p: number) => next() < p;
  const sample = <T>(xs: readonly T[], n: number): T[] => {
    const copy = [...xs];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy.slice(0, n);
  };
  return { next, int, pick, chance, sample };
}
export type Rng = ReturnType<typeof rng>;

export interface SyntheticWard {
  id: string;
  name: string;
  beds: (Bed & { roomId: string })[];
  patients: Patient[];
  /** Admitting encounters, one per patient, for emitters that need an encounter id. */
  encounterIds: Map<string, string>;
}

export interface SyntheticHospital {
  seed: number;
  /** The clock the data was generated against (administrations are within 24 h before it). */
  now: string;
  wards: SyntheticWard[];
}

export interface GenerateOptions {
  seed: number;
  wards: number;
  patientsPerWard: number;
  /** Beds per ward; patientsPerWard of them are filled, the rest shown empty. */
  bedsPerWard?: number;
  ordersMin?: number;
  ordersMax?: number;
  now: Date;
}

function personName(r: Rng, sex: 'male' | 'female'): string {
  if (r.chance(0.15)) {
    return `${r.pick(sex === 'female' ? C.EN_GIVEN_F : C.EN_GIVEN_M)} ${r.pick(C.EN_FAMILY)}`;
  }
  const middle = r.pick(sex === 'female' ? C.VI_MIDDLE_F : C.VI_MIDDLE_M);
  return `${r.pick(C.VI_FAMILY)} ${middle} ${r.pick(sex === 'female' ? C.VI_GIVEN_F : C.VI_GIVEN_M)}`;
}

function isoMinus(now: Date, ms: number): string {
  return new Date(now.getTime() - ms).toISOString();
}

/** The order's timing as an EHR that codes its orders holds it; free text only where the catalog has nothing structured. */
function timingOf(def: C.DrugDef): OrderTiming | null {
  const base: OrderTiming = { code: null, frequency: null, frequencyMax: null, period: null, periodMax: null, periodUnit: null, when: [], offsetMinutes: null, dayOfWeek: [], count: null, boundsStart: null, boundsEnd: null, boundsDuration: null };
  if (def.times.length > 0) return { ...base, frequency: def.times.length, period: 1, periodUnit: 'd' };
  const every = /every (\d+) hours/.exec(def.frequency);
  if (every) return { ...base, frequency: 1, period: Number(every[1]), periodUnit: 'h' };
  if (def.frequency.startsWith('at night')) return { ...base, when: ['NIGHT'] };
  return null;
}

/** Build one order, varying the drug slightly so 40 orders for one patient stay distinct. */
function makeOrder(r: Rng, def: C.DrugDef, id: string, now: Date, variant: number): MedicationOrder {
  const prn = def.times.length === 0 && !!def.prnReason;
  return {
    id,
    drug: variant > 0 ? `${def.drug} (${variant + 1})` : def.drug,
    dose: def.dose,
    route: def.route,
    frequency: timingOf(def) ? null : def.frequency,
    timing: timingOf(def),
    scheduledTimes: [...def.times],
    prn,
    prnReason: def.prnReason ?? null,
    start: isoMinus(now, r.int(1, 6) * 86_400_000),
    end: r.chance(0.2) ? new Date(now.getTime() + r.int(1, 5) * 86_400_000).toISOString() : null,
    orderedBy: r.pick(C.CLINICIANS),
    highAlert: isHighAlertDrug(def.drug),
    status: r.chance(0.05) ? 'on-hold' : 'active',
    instructions: def.instructions ?? null,
  };
}

/** Doses given in the last 24 h for each scheduled time that has passed. */
function makeAdministrations(r: Rng, orders: MedicationOrder[], now: Date, tz: number): Administration[] {
  const out: Administration[] = [];
  for (const o of orders) {
    if (o.status !== 'active') continue;
    if (o.prn) {
      if (r.chance(0.4)) out.push({ orderId: o.id, drug: o.drug, dose: o.dose, at: isoMinus(now, r.int(1, 20) * 3_600_000), by: r.pick(C.NURSES), status: 'completed' });
      continue;
    }
    for (const t of o.scheduledTimes) {
      const [h, m] = t.split(':').map(Number) as [number, number];
      // The time "t" in the ward's zone (UTC offset tz hours), on the day within the last 24 h.
      const local = new Date(now.getTime() + tz * 3_600_000);
      const at = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), h % 24, m) - tz * 3_600_000 + (h === 24 ? 86_400_000 : 0);
      const when = at > now.getTime() ? at - 86_400_000 : at;
      if (now.getTime() - when > 86_400_000) continue;
      out.push({ orderId: o.id, drug: o.drug, dose: o.dose, at: new Date(when).toISOString(), by: r.pick(C.NURSES), status: r.chance(0.05) ? 'not-done' : 'completed' });
    }
  }
  return out.sort((a, b) => a.at.localeCompare(b.at));
}

export function generateWard(r: Rng, wardIndex: number, opts: GenerateOptions): SyntheticWard {
  const now = opts.now;
  const wardNo = wardIndex + 1;
  const id = `ward-${wardNo}`;
  const bedsPerWard = Math.max(opts.bedsPerWard ?? Math.ceil(opts.patientsPerWard * 1.1), opts.patientsPerWard);
  const beds: SyntheticWard['beds'] = [];
  for (let b = 0; b < bedsPerWard; b++) {
    const room = `${wardNo}${String(Math.floor(b / 4) + 1).padStart(2, '0')}`;
    beds.push({ id: `${id}-bed-${b + 1}`, label: `${room}-${(b % 4) + 1}`, room, roomId: `${id}-room-${room}`, patientId: null });
  }
  const occupied = r.sample(beds.map((_, i) => i), opts.patientsPerWard).sort((a, b) => a - b);
  const patients: Patient[] = [];
  const encounterIds = new Map<string, string>();
  for (const bedIdx of occupied) {
    const n = patients.length;
    const pid = `p-${wardNo}-${n + 1}`;
    const sex = r.chance(0.5) ? 'female' : 'male';
    const bed = beds[bedIdx]!;
    bed.patientId = pid;
    const ordersMin = opts.ordersMin ?? 5;
    const ordersMax = opts.ordersMax ?? 25;
    const count = r.int(ordersMin, ordersMax);
    const defs: C.DrugDef[] = [];
    while (defs.length < count) defs.push(...r.sample(C.DRUGS, Math.min(count - defs.length, C.DRUGS.length)));
    const orders = defs.map((d, i) => makeOrder(r, d, `mr-${pid}-${i + 1}`, now, Math.floor(i / C.DRUGS.length)));
    const allergyRoll = r.next();
    const allergyItems =
      allergyRoll < 0.35
        ? r.sample(C.ALLERGENS, r.int(1, 3)).map((a) => ({ substance: a.substance, reaction: a.reaction, severity: a.criticality === 'high' ? 'severe' : 'mild', criticality: a.criticality, category: a.category }))
        : [];
    const diag = r.pick(C.DIAGNOSES);
    const isolation = r.chance(0.15) ? [r.pick(C.ISOLATIONS)] : [];
    const flags = r.chance(0.3) ? [{ text: r.pick(C.OTHER_FLAGS), category: 'clinical' as const }] : [];
    const birthYear = now.getUTCFullYear() - r.int(18, 95);
    patients.push({
      id: pid,
      mrn: `BV${String(wardNo).padStart(3, '0')}${String(n + 1).padStart(4, '0')}`,
      name: personName(r, sex),
      birthDate: `${birthYear}-${String(r.int(1, 12)).padStart(2, '0')}-${String(r.int(1, 28)).padStart(2, '0')}`,
      sex,
      bedId: bed.id,
      admittedAt: isoMinus(now, r.int(6, 24 * 14) * 3_600_000),
      attending: r.pick(C.CLINICIANS),
      admittingDiagnosis: diag.text,
      codeStatus: r.chance(0.1) ? null : r.pick(C.CODE_STATUSES),
      isolation,
      flags,
      weightKg: r.chance(0.9) ? r.int(38, 110) : null,
      diagnoses: { status: 'available', items: [{ text: diag.text, code: diag.code }] },
      allergies: {
        status: allergyItems.length > 0 ? 'recorded' : allergyRoll < 0.8 ? 'none-known' : 'not-recorded',
        items: allergyItems,
      },
      orders: { status: 'available', items: orders },
      administrations: { status: 'available', since: isoMinus(now, 86_400_000), items: makeAdministrations(r, orders, now, 7) },
      results: syntheticResults(pid, now),
    });
    encounterIds.set(pid, `enc-${pid}`);
  }
  return { id, name: `Khoa Nội ${wardNo} — Internal Medicine ${wardNo}`, beds, patients, encounterIds };
}

/** A deterministic synthetic hospital: same seed and options, same data. */
export function generateHospital(opts: GenerateOptions): SyntheticHospital {
  const r = rng(opts.seed);
  const wards: SyntheticWard[] = [];
  for (let w = 0; w < opts.wards; w++) wards.push(generateWard(r, w, opts));
  return { seed: opts.seed, now: opts.now.toISOString(), wards };
}

/** A synthetic ward as a snapshot pulled at `asOf` would hold it, without going through a source (the benches' documents). */
export function syntheticSnapshot(w: SyntheticWard, asOf: Date): WardSnapshot {
  return { ward: { id: w.id, name: w.name }, asOf: asOf.toISOString(), source: { id: 'his', system: 'bench', location: null }, beds: w.beds, patients: w.patients, warnings: [] };
}
