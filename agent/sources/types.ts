import type { Dataset, Patient, SourceInfo, WardSnapshot } from '../model/ward.js';
import type { NameOrder } from '../model/names.js';

export interface PullRequest {
  ward: { id: string; name: string; code?: string };
  /** Source-specific location, e.g. "Location/ward-3a". */
  location: string;
  datasets: readonly Dataset[];
  now: Date;
  signal: AbortSignal;
  /** How to write a name the source sends in parts (site setting); family-first when not given. */
  nameOrder?: NameOrder;
}

export interface PullResult {
  snapshot: WardSnapshot;
  /** Round trips made, for the run record and the bench. */
  requests: number;
  /** True when only what changed since the last pull was asked for (and merged into what that pull brought). */
  changesOnly?: boolean;
  /** Ready-made PDF reports the source supplied, published as they are. */
  reports?: { address: string; title: string; asOf: string; pdf: Buffer }[];
}

/** A central system Paperback reads from. A pull is all-or-nothing: it resolves with a whole ward or throws. */
export interface Source {
  info: SourceInfo;
  pull(req: PullRequest): Promise<PullResult>;
  /** Clinical data for patients whose census came from another source (an ADT feed), matched by MRN. */
  pullPatients?(req: PullRequest, patients: Patient[]): Promise<{ patients: Patient[]; requests: number; warnings: string[] }>;
  /**
   * After a downtime: the HIS record (MRN) that now carries each of these
   * identifiers, for the downtime numbers Registration entered on the
   * patients it created. Numbers no record carries are left out.
   */
  recordsFor?(identifiers: string[], signal: AbortSignal): Promise<Map<string, string>>;
  /**
   * File-back (issue #25): post a FHIR transaction Bundle to the server's base
   * and return its answer as it came (status and parsed body, null when not JSON).
   * Throws (SourceError, retryable) only when no answer came.
   */
  transaction?(bundle: object, signal: AbortSignal): Promise<{ status: number; body: unknown }>;
  /** File-back's conflict check: the administrations the HIS holds for an order (id, when, identifier values). */
  administrationsFor?(orderId: string, signal: AbortSignal): Promise<{ id: string; at: string | null; identifiers: string[] }[]>;
  /** A cheap liveness check (FHIR /metadata); throws when the system is unreachable. */
  probe(signal: AbortSignal): Promise<void>;
  close?(): Promise<void>;
}
