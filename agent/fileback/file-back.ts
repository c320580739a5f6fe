import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import { errorFields, PaperbackError } from '../log/errors.js';
import { keyOf, patientKey } from '../model/helpers.js';
import type { Patient } from '../model/ward.js';
import { listAdmissions } from '../outage/admissions.js';
import { activeDowntime } from '../outage/downtime.js';
import { hisWardOf } from '../outage/entry-sources.js';
import type { Source } from '../sources/types.js';
import type { BlobStore } from '../store/blobs.js';
import type { Db } from '../store/db.js';
import { effectiveEntries, listEntries, moveEntry, type Entry } from '../store/downtime-entries.js';
import { acquireJobLock } from '../store/locks.js';
import { currentSnapshot } from '../store/snapshots.js';
import { fileableByFhir, patientBundle, type PatientRef } from './fhir-bundle.js';
import { entryIdentifier } from './identifiers.js';
import { admissionMessage, entryMessage, type Hl7Target } from './hl7-messages.js';
import { admissionAdtStates, moveAdmissionAdt } from '../store/downtime-numbers.js';
import { admittedPatient } from '../outage/entry-overlay.js';
import type { Admission } from '../outage/admissions.js';
import { sendMllp, type MllpAck } from './mllp-client.js';

/**
 * File-back (issue #25): after recovery, each entry recorded during the
 * downtime goes to the HIS once, by the site's route (paperback.yaml
 * fileBack), and its filing state moves by the store's named moves. What the
 * box cannot decide is never guessed: it becomes "needs a person" with the
 * reason, for the reconciliation view.
 *
 * Exactly once: everything sent is named by the entry (identifiers.ts), so a
 * resend after a crash (the HIS took it, the box had not yet written
 * "filed") is recognised by the HIS: FHIR conditional create, HL7 the same
 * MSH-10. One file-back at a time across processes (a lock).
 */

export class FileBackError extends PaperbackError {}

export interface FileBackDeps {
  db: Db;
  blobs: BlobStore;
  config: LoadedConfig;
  sources: Map<string, Source>;
  log: Logger;
  now?: () => Date;
  /** The HL7 route's sender; tests may pass their own. */
  sendHl7?: (message: string, controlId: string, signal: AbortSignal) => Promise<MllpAck>;
}

export interface FileBackReport {
  filed: number;
  failed: number;
  rejected: number;
  needsPerson: number;
  /** Why the last failures failed, in words without patient data. */
  problems: string[];
}

/** An administration the HIS already holds for the same order this close in time is a conflict, not a duplicate to send. */
const SAME_DOSE_MINUTES = 60;

/**
 * Resources per transaction (a set of vital signs is up to six with its
 * Provenance): a patient of a 48-hour downtime has dozens of entries, and one
 * transaction of them all can outlast the server's time limit. Medplum's
 * server validates each resource, about 0.2 s each here: 20 took 4 s.
 */
const RESOURCES_PER_TRANSACTION = 20;

export async function fileBack(deps: FileBackDeps, opts: { jobId?: string; patient?: string; signal?: AbortSignal } = {}): Promise<FileBackReport> {
  const target = deps.config.box.fileBack;
  if (!target) throw new FileBackError('no-route', 'paperback.yaml has no fileBack: print the back-entry list and enter it by hand');
  if (activeDowntime(deps.db)) throw new FileBackError('downtime-running', 'a downtime is still running: end it first, then file back');
  const now = deps.now ?? (() => new Date());
  const lock = acquireJobLock(deps.db, 'file-back', 15 * 60_000, now);
  if ('heldBy' in lock) throw new FileBackError('busy', `file-back is already running (pid ${lock.heldBy.pid} on ${lock.heldBy.host})`, { retryable: true });
  const signal = opts.signal ?? new AbortController().signal;
  const report: FileBackReport = { filed: 0, failed: 0, rejected: 0, needsPerson: 0, problems: [] };
  const move = (e: Entry, m: 'file' | 'fail' | 'reject' | 'conflict', o: { ref?: string; error?: string } = {}) => {
    if (!moveEntry(deps.db, e.id, m, { now: now(), ...o })) return;
    if (m === 'file') report.filed++;
    else if (m === 'fail') report.failed++;
    else if (m === 'reject') report.rejected++;
    else report.needsPerson++;
    if (o.error && m !== 'file') report.problems.push(o.error);
  };
  try {
    const admissions = listAdmissions(deps.db, deps.blobs);
    for (const job of deps.config.jobs.values()) {
      if (opts.jobId && job.id !== opts.jobId) continue;
      // Over HL7, the ward's downtime admissions go first (ADT A01), so her entries after them find her.
      const admitted = admissions.filter((a) => a.ward === job.scope.ward && !a.hisMrn && (!opts.patient || keyOf(a.number) === opts.patient));
      if (target.to === 'hl7') await admitByHl7(deps, target, admitted, job.scope.ward, report, signal);
      const adt = admissionAdtStates(deps.db);
      const all = listEntries(deps.db, deps.blobs, { jobId: job.id });
      const byId = new Map(all.map((e) => [e.id, e]));
      const due = effectiveEntries(all).filter((e) => (e.state === 'pending' || e.state === 'failed') && (!opts.patient || e.patient === opts.patient));
      if (due.length === 0) continue;
      const snap = currentSnapshot(deps.db, job.id);
      const his = snap ? hisWardOf(deps.db, deps.blobs, snap.id) : null;
      const byKey = new Map((his?.patients ?? []).map((p) => [patientKey(p), p]));
      // A downtime admission's entries go to the HIS record Registration mapped her number to.
      for (const a of admissions) {
        const mapped = a.hisMrn ? his?.patients.find((p) => p.mrn === a.hisMrn) : undefined;
        if (mapped) byKey.set(keyOf(a.number), mapped);
      }
      const groups = new Map<string, Entry[]>();
      for (const e of due) {
        const old = e.correctsId !== null ? byId.get(e.correctsId) : undefined;
        if (old?.state === 'filed') {
          move(e, 'conflict', { error: `it corrects entry ${old.id}, which the HIS already has (${old.filedRef ?? 'filed'}): correct that one in the HIS by hand` });
          continue;
        }
        groups.set(e.patient, [...(groups.get(e.patient) ?? []), e]);
      }
      // Over HL7, a downtime admission the HIS has taken (her A01) is known to it by her number.
      if (target.to === 'hl7') for (const a of admitted) if (adt.get(a.number)?.state === 'filed') byKey.set(keyOf(a.number), admittedPatient(a, a.bed));
      for (const [key, entries] of groups) {
        signal.throwIfAborted();
        const p = byKey.get(key);
        if (!p) {
          for (const e of entries) move(e, 'conflict', { error: 'she is not on the HIS census this box last read (a downtime admission not yet registered, or she left the ward): file it by hand' });
          continue;
        }
        // A move the HIS already shows (someone entered it meanwhile) is not sent again: a person confirms.
        const bedNow = his?.beds.find((b) => b.id === p.bedId)?.label ?? null;
        const rest = entries.filter((e) => {
          if (e.payload.kind !== 'transfer' || e.payload.toWard || !e.payload.toBed || !bedNow || bedNow.toLowerCase() !== e.payload.toBed.toLowerCase()) return true;
          move(e, 'conflict', { error: `the HIS already has her in bed ${bedNow}: check it was this move, then mark it entered by hand` });
          return false;
        });
        if (target.to === 'fhir') await fileByFhir(deps, target.source, p, rest, move, signal);
        else await fileByHl7(deps, target, p, rest, move, signal);
      }
    }
  } finally {
    lock.release();
  }
  deps.log.info({ room: 'fileback', filed: report.filed, failed: report.failed, rejected: report.rejected, needsPerson: report.needsPerson }, 'file-back finished');
  return report;
}

type Move = (e: Entry, m: 'file' | 'fail' | 'reject' | 'conflict', o?: { ref?: string; error?: string }) => void;

async function fileByFhir(deps: FileBackDeps, sourceId: string, p: Patient, entries: Entry[], move: Move, signal: AbortSignal): Promise<void> {
  const source = deps.sources.get(sourceId);
  if (!source?.transaction) throw new FileBackError('no-route', `source "${sourceId}" cannot take a FHIR transaction`);
  const ref: PatientRef = { id: p.id, mrn: p.mrn };
  const send: Entry[] = [];
  // The HIS's administrations of each order, asked once per order however many doses of it were recorded.
  const known = new Map<string, Promise<HisDoses>>();
  for (const e of entries) {
    if (!fileableByFhir(e)) {
      move(e, 'conflict', { error: `a ${e.kind} is entered in the HIS by hand (FHIR file-back carries doses, vital signs and notes)` });
      continue;
    }
    const clash = await sameDoseInHis(source, e, known, signal);
    if (clash) move(e, 'conflict', { error: clash });
    else send.push(e);
  }
  for (const chunk of chunks(send, ref)) {
    signal.throwIfAborted();
    const outcome = await sendBundle(source, ref, chunk, signal);
    if (outcome.kind === 'refused' && chunk.length > 1) {
      // One refused resource refuses the whole transaction: send each alone, so the others are filed.
      for (const e of chunk) applyOutcome(await sendBundle(source, ref, [e], signal), [e], move);
      continue;
    }
    applyOutcome(outcome, chunk, move);
  }
}

/** The entries in transactions of at most RESOURCES_PER_TRANSACTION resources (an entry is never split). */
function chunks(entries: Entry[], ref: PatientRef): Entry[][] {
  const out: Entry[][] = [];
  let cur: Entry[] = [];
  let size = 0;
  for (const e of entries) {
    const n = patientBundle([e], ref).bundle.entry.length;
    if (cur.length && size + n > RESOURCES_PER_TRANSACTION) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(e);
    size += n;
  }
  if (cur.length) out.push(cur);
  return out;
}

type HisDoses = Awaited<ReturnType<NonNullable<Source['administrationsFor']>>> | null;

type BundleOutcome = { kind: 'filed'; refs: Map<number, string> } | { kind: 'refused'; why: string } | { kind: 'failed'; why: string };

async function sendBundle(source: Source, ref: PatientRef, entries: Entry[], signal: AbortSignal): Promise<BundleOutcome> {
  const { bundle, owners } = patientBundle(entries, ref);
  let res: { status: number; body: unknown };
  try {
    res = await source.transaction!(bundle, signal);
  } catch (err) {
    return { kind: 'failed', why: (err as Error).message };
  }
  const why = `the HIS answered HTTP ${res.status}${outcomeText(res.body)}`;
  if (res.status === 408 || res.status === 429 || res.status >= 500) return { kind: 'failed', why };
  if (res.status >= 400) return { kind: 'refused', why };
  const body = res.body as { resourceType?: string; type?: string; entry?: { response?: { status?: string; location?: string } }[] } | null;
  if (body?.resourceType !== 'Bundle' || body.type !== 'transaction-response' || body.entry?.length !== owners.length) return { kind: 'failed', why: `the HIS's answer is not a transaction-response for ${owners.length} entries` };
  const refs = new Map<number, string>();
  for (const [i, r] of body.entry.entries()) {
    if (!/^2\d\d/.test(r.response?.status ?? '')) return { kind: 'failed', why: `the HIS answered ${r.response?.status ?? 'nothing'} for one resource of a transaction it accepted` };
    const owner = owners[i]!;
    if (!refs.has(owner) && r.response?.location) refs.set(owner, r.response.location.replace(/\/_history\/.*$/, ''));
  }
  return { kind: 'filed', refs };
}

function applyOutcome(o: BundleOutcome, entries: Entry[], move: Move): void {
  for (const e of entries) {
    if (o.kind === 'filed') move(e, 'file', { ref: o.refs.get(e.id) ?? 'filed' });
    else if (o.kind === 'refused') move(e, 'reject', { error: o.why });
    else move(e, 'fail', { error: o.why });
  }
}

/** The HIS already holds an administration of this order close to this one's time, not sent by this box. */
async function sameDoseInHis(source: Source, e: Entry, known: Map<string, Promise<HisDoses>>, signal: AbortSignal): Promise<string | null> {
  if (!source.administrationsFor || e.payload.kind !== 'administration' || !e.payload.orderId) return null;
  const ours = entryIdentifier(e.uid).value;
  const orderId = e.payload.orderId;
  if (!known.has(orderId)) known.set(orderId, source.administrationsFor(orderId, signal).catch(() => null));
  // null: the check could not run; the transaction that follows says whether the HIS is there.
  const found = await known.get(orderId)!;
  if (!found) return null;
  const at = Date.parse(e.occurredAt);
  const near = found.find((a) => !a.identifiers.includes(ours) && a.at && Math.abs(Date.parse(a.at) - at) <= SAME_DOSE_MINUTES * 60_000);
  return near ? `the HIS already has an administration of this order ${Math.round(Math.abs(Date.parse(near.at!) - at) / 60_000)} min from this one (MedicationAdministration/${near.id}): decide which stands` : null;
}

async function fileByHl7(deps: FileBackDeps, target: Hl7Target, p: Patient, entries: Entry[], move: Move, signal: AbortSignal): Promise<void> {
  const send = hl7Sender(deps, target);
  const box = deps.config.box;
  for (const e of entries) {
    signal.throwIfAborted();
    const { message, controlId } = entryMessage(e, p, { target, timeZone: box.timeZone, ward: box.wards.find((w) => w.id === deps.config.jobs.get(e.jobId)?.scope.ward) ?? null });
    try {
      const ack = await send(message, controlId, signal);
      if (ack.code === 'AA' || ack.code === 'CA') move(e, 'file', { ref: `MSH-10 ${controlId}` });
      else if (ack.code === 'AR' || ack.code === 'CR') move(e, 'reject', { error: `the interface engine rejected it (${ack.code}${ack.text ? `: ${ack.text.slice(0, 200)}` : ''})` });
      else move(e, 'fail', { error: `the interface engine answered ${ack.code}${ack.text ? `: ${ack.text.slice(0, 200)}` : ''}` });
    } catch (err) {
      deps.log.warn({ room: 'fileback', err: errorFields(err) }, 'an HL7 file-back message got no acknowledgement; it is sent again next time');
      move(e, 'fail', { error: (err as Error).message });
    }
  }
}

const hl7Sender = (deps: FileBackDeps, target: Hl7Target) => deps.sendHl7 ?? ((message: string, id: string, s: AbortSignal) => sendMllp({ host: target.host, port: target.port, timeoutMs: target.timeoutMs }, message, id, s));

/** Each downtime admission not yet sent, as an ADT A01; filed on the AA that names it. */
async function admitByHl7(deps: FileBackDeps, target: Hl7Target, admitted: Admission[], wardId: string, report: FileBackReport, signal: AbortSignal): Promise<void> {
  const send = hl7Sender(deps, target);
  const states = admissionAdtStates(deps.db);
  const now = deps.now ?? (() => new Date());
  const ward = deps.config.box.wards.find((w) => w.id === wardId) ?? null;
  for (const a of admitted) {
    if (states.get(a.number)?.state !== null) continue;
    signal.throwIfAborted();
    const { message, controlId } = admissionMessage({ ...a }, { target, timeZone: deps.config.box.timeZone, ward });
    let to: 'filed' | 'rejected' | 'failed';
    let error: string | undefined;
    try {
      const ack = await send(message, controlId, signal);
      to = ack.code === 'AA' || ack.code === 'CA' ? 'filed' : ack.code === 'AR' || ack.code === 'CR' ? 'rejected' : 'failed';
      if (to !== 'filed') error = `the interface engine answered ${ack.code} to the admission${ack.text ? `: ${ack.text.slice(0, 200)}` : ''}`;
    } catch (err) {
      to = 'failed';
      error = (err as Error).message;
    }
    if (!moveAdmissionAdt(deps.db, a.number, to, { now: now(), ref: `MSH-10 ${controlId}`, error })) continue;
    if (to === 'filed') report.filed++;
    else if (to === 'rejected') report.rejected++;
    else report.failed++;
    if (error) report.problems.push(error);
  }
}

/** The diagnostics of an OperationOutcome answer, if any (the HIS's words, cut short). */
function outcomeText(body: unknown): string {
  const b = body as { resourceType?: string; issue?: { diagnostics?: string; details?: { text?: string } }[] } | null;
  if (b?.resourceType !== 'OperationOutcome') return '';
  const t = b.issue?.map((i) => i.diagnostics ?? i.details?.text).filter(Boolean).join('; ');
  return t ? `: ${t.slice(0, 200)}` : '';
}
