import type { Logger } from 'pino';
import type { Hl7SourceConfig } from '../../config/schema.js';
import type { Patient, WardSnapshot } from '../../model/ward.js';
import type { BlobStore } from '../../store/blobs.js';
import type { Db } from '../../store/db.js';
import type { PullRequest, PullResult, Source } from '../types.js';
import { pullClinicalData, withClinicalSystem } from '../clinical.js';
import { bedLabel, wardCensus, type AdtRecord } from './adt-census.js';
import { adtFeed, type AdtFeed } from './feed.js';
import { startMllpServer, type MllpServer } from './mllp.js';
import type { NameOrder } from '../../model/names.js';

/** A feed silent for this long gets a warning on paper: the census may be behind. */
const SILENT_MINUTES = 120;

export interface Hl7SourceDeps {
  db: Db;
  blobs: BlobStore;
  log: Logger;
  configDir: string;
  timeZone: string;
  /** How names sent in parts (XPN, XCN) are written: the site's order. */
  nameOrder?: NameOrder;
  wardIds: () => string[];
  /** Start the MLLP listener (serve); `run` and the CLI only read the stored census. */
  listen: boolean;
  /** The FHIR source of `clinical`, when configured: medications, allergies … per patient. */
  clinical?: Source;
  now?: () => Date;
}

const patientIdOf = (r: AdtRecord) => `mrn-${r.mrn}`;
const bedIdOf = (label: string) => `bed-${label}`;

function toPatient(r: AdtRecord): Patient {
  const bed = bedLabel(r.location);
  return {
    id: patientIdOf(r),
    mrn: r.mrn,
    otherIds: r.otherIds ?? [],
    name: r.name,
    birthDate: r.birthDate,
    sex: r.sex === 'unknown' ? null : r.sex,
    bedId: bed ? bedIdOf(bed) : null,
    admittedAt: r.admittedAt,
    attending: r.attending,
    admittingDiagnosis: r.admitReason ?? r.diagnoses?.[0]?.text ?? null,
    codeStatus: null,
    isolation: [],
    flags: [],
    weightKg: null,
    diagnoses: r.diagnoses ? { status: 'available', items: r.diagnoses } : { status: 'not-pulled', items: [] },
    // AL1 is optional in ADT: no AL1 means the feed said nothing, not that there are no allergies.
    allergies: r.allergies?.length
      ? { status: 'recorded', items: r.allergies.map((a) => ({ substance: a.substance, reaction: a.reaction, severity: a.severity, criticality: null, category: null })) }
      : { status: 'not-recorded', items: [] },
    orders: { status: 'not-pulled', items: [] },
    administrations: { status: 'not-pulled', since: null, items: [] },
  };
}

export function createHl7Source(cfg: Hl7SourceConfig, deps: Hl7SourceDeps): Source & { feed: AdtFeed; started: Promise<MllpServer | null> } {
  const now = deps.now ?? (() => new Date());
  const feed = adtFeed(cfg, { db: deps.db, blobs: deps.blobs, log: deps.log, wardIds: deps.wardIds, timeZone: deps.timeZone, nameOrder: deps.nameOrder ?? 'family-first', now });
  const info = { id: cfg.id, system: cfg.name, location: `mllp://${cfg.listen.host}:${cfg.listen.port}` };
  // Messages acknowledged but not applied when the agent last stopped are applied before anything else.
  const started: Promise<MllpServer | null> = deps.listen
    ? (async () => {
        const replayed = feed.applyPending();
        if (replayed > 0) deps.log.info({ room: 'hl7', source: cfg.id, replayed }, 'applied ADT messages stored before the last stop');
        const server = await startMllpServer({ host: cfg.listen.host, port: cfg.listen.port, tls: cfg.tls, configDir: deps.configDir, allowFrom: cfg.allowFrom,
          onMessage: (raw, peer) => feed.receive(raw, peer),
          onOversize: (head, size, peer) => feed.oversize(head, size, peer),
          onDiscarded: (partial, peer) => feed.quarantine(partial, peer, 'none', 'partial frame discarded: a new frame started before its end (no ACK was sent for it)'),
          maxMessageBytes: cfg.maxMessageBytes,
          unframedTimeoutMs: cfg.unframedTimeoutSeconds * 1000,
          log: deps.log,
        });
        deps.log.info({ room: 'hl7', source: cfg.id, port: server.port, tls: !!cfg.tls }, 'HL7 v2 ADT listener (MLLP) started');
        return server;
      })()
    : Promise.resolve(null);
  started.catch(() => undefined);

  return {
    info,
    feed,
    started,
    async pull(req: PullRequest): Promise<PullResult> {
      feed.applyPending();
      const records = wardCensus(deps.db, deps.blobs, cfg.id, req.ward.id);
      const patients = records.map(toPatient);
      // ADT names only occupied beds: the census lists those.
      const beds = new Map<string, WardSnapshot['beds'][number]>();
      for (const r of records) {
        const label = bedLabel(r.location);
        if (label && !beds.has(label)) beds.set(label, { id: bedIdOf(label), label, room: null, patientId: patientIdOf(r) });
      }
      const warnings: WardSnapshot['warnings'] = [];
      const last = deps.db.prepare('SELECT MAX(received_at) FROM hl7_messages WHERE source_id = ?').pluck().get(cfg.id) as string | null;
      const silentMin = last ? Math.round((req.now.getTime() - Date.parse(last)) / 60_000) : null;
      if (silentMin === null) warnings.push({ code: 'partial-data', message: 'No ADT message has been received yet: the census is empty until the interface engine sends one.' });
      else if (silentMin > SILENT_MINUTES) warnings.push({ code: 'source-warning', message: `No ADT message for ${silentMin} minutes: the census may be behind.` });
      // AL1 allergies stay beside the clinical server's (pullClinicalData).
      const clinical = await pullClinicalData(deps.clinical, req, patients, cfg.name);
      if (clinical) warnings.push(...clinical.warnings);
      const snapshot: WardSnapshot = {
        ward: req.ward,
        asOf: req.now.toISOString(),
        source: withClinicalSystem(info, deps.clinical),
        beds: [...beds.values()].sort((a, b) => a.label.localeCompare(b.label, 'en', { numeric: true })),
        patients: clinical?.patients ?? patients,
        warnings,
      };
      return { snapshot, requests: clinical?.requests ?? 0 };
    },
    async probe(signal) {
      // The feed is passive: silence is not an outage. The clinical system is what can be down.
      await deps.clinical?.probe(signal);
    },
    async close() {
      const s = await started.catch(() => null);
      await s?.close();
    },
  };
}
