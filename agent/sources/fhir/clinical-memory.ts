import zlib from 'node:zlib';
import type { Patient } from '../../model/ward.js';

/**
 * The per-patient searches a pull keeps, by the resource type each returns:
 * 'Observation' is the weight and height search, 'Observation:results' the
 * recent laboratory results and vital signs (a search of its own, kept apart).
 */
export const CLINICAL_TYPES = ['MedicationRequest', 'MedicationAdministration', 'AllergyIntolerance', 'Condition', 'Flag', 'Observation', 'Observation:results'] as const;
export type ClinicalType = (typeof CLINICAL_TYPES)[number];
/** The FHIR resource type a search asks for. */
export const resourceTypeOf = <T extends ClinicalType>(t: T) => t.split(':')[0] as T extends `${infer R}:${string}` ? R : T;

export type Resource = { resourceType: string; id?: string };
/** One patient's resources of each clinical type. */
export type ClinicalResources = Record<ClinicalType, Resource[]>;
/** What the clinical searches put on a patient's sheets. */
export type ClinicalFields = Partial<Pick<Patient, 'orders' | 'administrations' | 'allergies' | 'diagnoses' | 'codeStatus' | 'isolation' | 'flags' | 'weightKg' | 'weightAt' | 'heightCm' | 'heightAt' | 'results'>>;

/**
 * One patient as the last pull left her: her resources, and what they
 * normalized to, each compressed apart. A pull opens the resources only of
 * patients something changed for, and reuses the rest as they are.
 */
export interface PatientRecall {
  resources: Buffer;
  fields: Buffer;
}

/** What one ward's last pull brought back, so the next asks the server only for what changed. */
export interface ClinicalRecall {
  /** Changes are asked for from here: when the server answered the last pull, less an overlap. */
  since: string;
  /** When the last full pull was (ms). */
  fullAt: number;
  patients: Map<string, PatientRecall>;
  /** Medications and practitioners resolved so far, by "Type/id". */
  referenced: [string, Resource][];
}

// Copied out: zlib's answer is a view of a 16 kB output chunk, which a patient's few hundred bytes
// would keep alive (8,000 of them on a 4,000-patient host held ~120 MB).
export const pack = (value: unknown): Buffer => {
  const z = zlib.deflateRawSync(JSON.stringify(value), { level: 1 });
  // Its own memory of exactly its size: a slice of Node's shared pool would keep the pool alive, and on
  // Node 24 (64 kB pools, 64 kB zlib chunks) 200 patients held 4.4 MB that way instead of 25 kB.
  const out = Buffer.allocUnsafeSlow(z.length);
  z.copy(out);
  return out;
};
export const unpack = <T>(b: Buffer): T => JSON.parse(zlib.inflateRawSync(b).toString('utf8')) as T;

/**
 * Per-ward recall of the last pull, kept compressed in memory (a ward's
 * resources are about a megabyte of JSON; deflated about a tenth). Not
 * persisted: after a restart the first pull is full.
 */
export interface ClinicalMemory {
  recall(scope: string, now: Date): ClinicalRecall | null;
  /** Only worth calling when fullEveryMs > 0 (otherwise nothing is ever recalled). */
  remember(scope: string, r: ClinicalRecall): void;
  forget(scope: string): void;
  readonly fullEveryMs: number;
  /** How far before the server's answer to the last pull changes are asked for. */
  readonly overlapMs: number;
  /** The same, when the server gave no Date and our clock must serve (which may differ from the server's). */
  readonly ownClockOverlapMs: number;
}

type Kept = Omit<ClinicalRecall, 'referenced'> & { referenced: Buffer };

export function clinicalMemory(opts: { fullEveryMinutes: number; overlapSeconds?: number; ownClockOverlapSeconds?: number }): ClinicalMemory {
  const byScope = new Map<string, Kept>();
  const fullEveryMs = opts.fullEveryMinutes * 60_000;
  return {
    fullEveryMs,
    overlapMs: (opts.overlapSeconds ?? 120) * 1000,
    ownClockOverlapMs: (opts.ownClockOverlapSeconds ?? 900) * 1000,
    recall(scope, now) {
      if (fullEveryMs <= 0) return null;
      const k = byScope.get(scope);
      if (!k) return null;
      // Due for a full pull, or the clock went backwards past the last pull: start over.
      if (now.getTime() - k.fullAt >= fullEveryMs || now.getTime() < k.fullAt) return null;
      return { ...k, patients: new Map(k.patients), referenced: unpack<[string, Resource][]>(k.referenced) };
    },
    remember(scope, r) {
      byScope.set(scope, { ...r, patients: new Map(r.patients), referenced: pack(r.referenced) });
    },
    forget(scope) {
      byScope.delete(scope);
    },
  };
}
