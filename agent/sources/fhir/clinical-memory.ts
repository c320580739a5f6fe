import zlib from 'node:zlib';

/** Clinical resource types a pull keeps, each searched per patient. */
export const CLINICAL_TYPES = ['MedicationRequest', 'MedicationAdministration', 'AllergyIntolerance', 'Condition', 'Flag', 'Observation'] as const;
export type ClinicalType = (typeof CLINICAL_TYPES)[number];

type Resource = { resourceType: string; id?: string };

/** What one ward's last pull brought back, so the next asks the server only for what changed. */
export interface ClinicalRecall {
  /** Changes are asked for from here: when the server answered the last pull, less an overlap. */
  since: string;
  /** When the last full pull was (ms). */
  fullAt: number;
  patients: string[];
  resources: Record<ClinicalType, Resource[]>;
  /** Medications and practitioners resolved last time, by "Type/id". */
  referenced: [string, Resource][];
}

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

export function clinicalMemory(opts: { fullEveryMinutes: number; overlapSeconds?: number; ownClockOverlapSeconds?: number }): ClinicalMemory {
  const byScope = new Map<string, Buffer>();
  const fullEveryMs = opts.fullEveryMinutes * 60_000;
  return {
    fullEveryMs,
    overlapMs: (opts.overlapSeconds ?? 120) * 1000,
    ownClockOverlapMs: (opts.ownClockOverlapSeconds ?? 900) * 1000,
    recall(scope, now) {
      if (fullEveryMs <= 0) return null;
      const z = byScope.get(scope);
      if (!z) return null;
      const r = JSON.parse(zlib.inflateRawSync(z).toString('utf8')) as ClinicalRecall;
      // Due for a full pull, or the clock went backwards past the last pull: start over.
      if (now.getTime() - r.fullAt >= fullEveryMs || now.getTime() < r.fullAt) return null;
      return r;
    },
    remember(scope, r) {
      byScope.set(scope, zlib.deflateRawSync(JSON.stringify(r), { level: 1 }));
    },
    forget(scope) {
      byScope.delete(scope);
    },
  };
}
