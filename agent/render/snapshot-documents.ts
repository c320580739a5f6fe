import type { WardSnapshot } from '../model/ward.js';
import type { NewArtifact } from '../store/snapshots.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Patient } from '../model/ward.js';
import { patientStamp, planDocuments, snapshotFor, type DocumentKind, type DocumentRequest, type PlannedDocument } from './documents.js';
import { loadForms, readBlankForm } from './forms.js';
import { TemplateError } from './markup.js';
import { formatDateTime } from './i18n.js';
import { patientKey, patientsInBedOrder } from '../model/helpers.js';
import { loadWording, translator, type Language } from './i18n.js';
import { inThreadRenderer, type RenderedPdf, type Renderer } from './renderer.js';
import { loadLogo, loadTemplateSettings, standardTimesOf } from './templates.js';
import { coverText } from './coverage.js';

export interface RenderSettings {
  documents: readonly DocumentKind[];
  /** Form ids from templates/forms/forms.yaml. */
  forms?: readonly string[];
  language: Language;
  timeZone: string;
  hospital: string;
  templatesDir: string;
  size?: 'A4' | 'LETTER';
}

/** A document of the current snapshot that may be reused: what it was made from, and when its data was as of. */
export interface ReusableDocument {
  renderKey: string;
  sha256: string;
  size: number;
  pages: number | null;
  asOf: string;
}

export type RenderedArtifact =
  | { meta: NewArtifact; content: Buffer; reused?: undefined }
  /** Unchanged since the current snapshot: the same file, not rendered again. */
  | { meta: NewArtifact; content?: undefined; reused: { sha256: string; size: number } };

/**
 * What a patient document is made from, as one hash: the patient's data, her
 * bed and ward, and every template, wording and setting that shapes the page.
 * The time is not in it; reuse is bounded in time instead (see below). Her
 * part is serialized and hashed once and shared by her documents.
 */
function renderKeys(fingerprint: string, snap: WardSnapshot): (kind: string, p: Patient) => string {
  const ofPatient = new Map<Patient, string>();
  return (kind, p) => {
    let made = ofPatient.get(p);
    if (made === undefined) {
      const bed = snap.beds.find((b) => b.id === p.bedId) ?? null;
      // The windows' starts move with every pull (24 h of doses, 72 h of results); what fell inside them is what counts.
      const data = { ...p, administrations: { status: p.administrations.status, items: p.administrations.items }, results: p.results && { status: p.results.status, items: p.results.items } };
      made = crypto.createHash('sha256').update(JSON.stringify([fingerprint, snap.ward, snap.source, bed?.label ?? null, bed?.room ?? null, data])).digest('hex');
      ofPatient.set(p, made);
    }
    return crypto.createHash('sha256').update(`${kind}\n${made}`).digest('hex');
  };
}

/** Everything under templates/ that can change how a page looks, by content. */
function templatesFingerprint(templatesDir: string, settings: RenderSettings): string {
  const h = crypto.createHash('sha256');
  h.update(JSON.stringify([settings.language, settings.timeZone, settings.hospital, settings.size ?? null, RENDERER_VERSION]));
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const f = path.join(dir, e.name);
      if (e.isDirectory()) walk(f);
      else if (!e.name.endsWith('.md')) h.update(e.name).update(fs.readFileSync(f));
    }
  };
  walk(fs.realpathSync(templatesDir));
  return h.digest('hex');
}

/** Bump when code changes what a document looks like, so no old rendering is reused. */
const RENDERER_VERSION = 4;

/**
 * Everything a snapshot publishes: the normalized ward as data (for the ward
 * page and later reuse) and one PDF per planned document.
 */
export interface RenderOptions {
  renderedAt: Date;
  signal?: AbortSignal;
  /** The current snapshot's document at an address, if any, for incremental snapshots. */
  previous?: (address: string) => ReusableDocument | null;
  /**
   * How old a reused document's data may be. Bounded because a MAR's due
   * window starts at its as-of time: within an hour it is still the right sheet.
   */
  reuseWithinMinutes?: number;
  /** Who draws the PDFs: the daemon's render threads, or this thread. */
  renderer?: Renderer;
  /**
   * Called with each new artifact as soon as it is ready, by its index in the
   * returned list, so the caller can store it while later documents render.
   */
  onArtifact?: (index: number, artifact: RenderedArtifact & { content: Buffer }) => void;
}

/**
 * Start at most `limit` renders at once and keep the documents in order: the
 * render threads stay busy while this thread builds the next documents, and
 * a ward's worth of documents is never all in flight.
 */
function boundedRenders(limit: number, signal?: AbortSignal) {
  const running = new Set<Promise<unknown>>();
  let failed: unknown = null;
  return async (start: () => Promise<RenderedPdf>): Promise<{ done: Promise<RenderedPdf> }> => {
    while (running.size >= limit) await Promise.race(running);
    signal?.throwIfAborted();
    // One failed document fails the run: stop starting others.
    if (failed) throw failed;
    const done = start();
    const tracked = done.then(
      () => void running.delete(tracked),
      (err: unknown) => {
        failed ??= err;
        running.delete(tracked);
      },
    );
    running.add(tracked);
    return { done };
  };
}

/** The wording, the template settings and what a render thread builds documents with. */
function documentContext(settings: RenderSettings, renderedAt: Date) {
  const wording = loadWording(settings.templatesDir, settings.language);
  const t = translator(wording);
  const look = loadTemplateSettings(settings.templatesDir);
  const context: DocumentRequest['context'] = {
    wording,
    logo: loadLogo(settings.templatesDir, look),
    templatesDir: settings.templatesDir,
    timeZone: settings.timeZone,
    hospital: look.hospitalName ?? settings.hospital,
    size: settings.size ?? look.paper,
    renderedAt,
    standardTimes: standardTimesOf(look),
  };
  return { t, look, context };
}

/**
 * Which planned patient documents can be the current snapshot's file again:
 * nothing they are made from changed, and their data is recent enough. Keys
 * are returned for every patient document, so the next run can reuse what
 * this one renders.
 */
function planReuse(snap: WardSnapshot, planned: PlannedDocument[], settings: RenderSettings, opts: RenderOptions, fingerprint: string) {
  const renderKey = renderKeys(fingerprint, snap);
  const window = (opts.reuseWithinMinutes ?? 60) * 60_000;
  const keys = new Map<string, string>();
  const reuse = new Map<string, ReusableDocument>();
  for (const d of planned) {
    if (!d.patient) continue;
    const key = renderKey(d.kind, d.patient);
    keys.set(d.address, key);
    const prev = opts.previous?.(d.address);
    if (prev && prev.renderKey === key && Date.parse(snap.asOf) - Date.parse(prev.asOf) <= window) reuse.set(d.address, prev);
  }
  const oldest = [...reuse.values()].reduce<string | null>((m, r) => (m === null || r.asOf < m ? r.asOf : m), null);
  return { keys, reuse, oldest };
}

/**
 * The run's artifacts in the order they are listed and printed in, filled in
 * as renders finish: `render` starts one (a few at once), `add` puts one that
 * is already there, `settle` waits for all and fails if any failed.
 */
function orderedArtifacts(renderer: Renderer, opts: RenderOptions) {
  const pending: (RenderedArtifact | Promise<RenderedArtifact>)[] = [];
  const enqueue = boundedRenders(renderer.parallelism * 2, opts.signal);
  return {
    add(a: RenderedArtifact): void {
      if (a.content) opts.onArtifact?.(pending.length, a);
      pending.push(a);
    },
    async render(meta: NewArtifact, start: () => Promise<RenderedPdf>): Promise<void> {
      const { done } = await enqueue(start);
      const index = pending.length;
      const artifact = done.then(({ pdf, pages }) => {
        const a = { meta: { ...meta, pages }, content: pdf };
        opts.onArtifact?.(index, a);
        return a;
      });
      // Awaited all together in settle; a failure is reported there, not as an unhandled rejection now.
      artifact.catch(() => undefined);
      pending.push(artifact);
    },
    /** Nothing is left rendering (or being handed to onArtifact) once this returns or throws. */
    async settle(): Promise<RenderedArtifact[]> {
      const settled = await Promise.allSettled(pending);
      const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw failure.reason;
      return settled.map((r) => (r as PromiseFulfilledResult<RenderedArtifact>).value);
    },
  };
}

/**
 * Everything a snapshot publishes, in order: the normalized ward as data (for
 * the ward page and later reuse), one PDF per planned document (reused when
 * unchanged), then each job form blank and stamped per patient.
 */
export async function renderSnapshotDocuments(snap: WardSnapshot, settings: RenderSettings, opts: RenderOptions): Promise<RenderedArtifact[]> {
  const { t, look, context } = documentContext(settings, opts.renderedAt);
  const artifacts = orderedArtifacts(opts.renderer ?? inThreadRenderer, opts);
  artifacts.add({ meta: { address: 'data/ward', kind: 'data', mediaType: 'application/json', title: 'Normalized ward data', asOf: snap.asOf }, content: Buffer.from(JSON.stringify(snap)) });
  const planned = planDocuments(snap, settings.documents, { ...context, t });
  const fingerprint = templatesFingerprint(settings.templatesDir, settings);
  const { keys, reuse, oldest } = planReuse(snap, planned, settings, opts, fingerprint);
  // Ward documents are always new; when some patient sheets were reused the census says what that means.
  // The note fits the census's landscape header in both languages.
  const censusContext = oldest ? { ...context, asOfNote: t('reusedNote', { time: formatDateTime(oldest, settings.timeZone) ?? oldest }) } : context;
  try {
    for (const d of planned) {
      const meta: NewArtifact = { address: d.address, kind: 'document', mediaType: 'application/pdf', title: d.title, patientKey: d.patient ? patientKey(d.patient) : null, renderKey: keys.get(d.address) ?? null, asOf: snap.asOf };
      const r = reuse.get(d.address);
      if (r) {
        artifacts.add({ meta: { ...meta, pages: r.pages, renderKey: r.renderKey, asOf: r.asOf }, reused: { sha256: r.sha256, size: r.size } });
        continue;
      }
      // Only what the document reads is sent to the thread (a patient's document: her and her bed).
      const req: DocumentRequest = { kind: d.kind, snap: snapshotFor(d.kind, snap, d.patient), patient: d.patient, context: d.kind === 'census' ? censusContext : context };
      await artifacts.render(meta, () => (opts.renderer ?? inThreadRenderer).document(req));
    }
    if (settings.forms?.length) await queueForms(snap, settings, opts, { t, hospital: look.hospitalName ?? settings.hospital, size: settings.size ?? look.paper, fingerprint }, artifacts);
  } catch (err) {
    await artifacts.settle().catch(() => undefined);
    throw err;
  }
  return artifacts.settle();
}

/** The job's blank forms, each followed by one copy stamped for every patient in bed order. */
async function queueForms(snap: WardSnapshot, settings: RenderSettings, opts: RenderOptions, look: { t: ReturnType<typeof translator>; hospital: string; size: 'A4' | 'LETTER'; fingerprint: string }, artifacts: ReturnType<typeof orderedArtifacts>): Promise<void> {
  const renderer = opts.renderer ?? inThreadRenderer;
  const defs = loadForms(settings.templatesDir);
  const { t } = look;
  const ctx = { t, templatesDir: settings.templatesDir, timeZone: settings.timeZone, hospital: look.hospital, size: look.size, renderedAt: opts.renderedAt };
  const asOf = t('asOf', { time: formatDateTime(snap.asOf, settings.timeZone) ?? snap.asOf });
  for (const id of settings.forms ?? []) {
    const f = defs.find((d) => d.id === id);
    if (!f) throw new TemplateError('templates/forms/forms.yaml', null, `no form "${id}" (the snapshot job lists it under forms)`);
    const blank = readBlankForm(settings.templatesDir, f);
    artifacts.add({ meta: { address: `blank/${f.id}`, kind: 'document', mediaType: 'application/pdf', title: f.title }, content: blank });
    // A form with no label place is blank-only (a downtime MAR for a new admission): no copy per patient.
    if (!f.label) continue;
    for (const p of patientsInBedOrder(snap)) {
      const stamp = patientStamp(snap, p, ctx);
      stamp.name = coverText(stamp.name).text; // the label's font has no CJK or Thai either
      // A stamped copy is all its stamp: the same stamp on the same templates is the same file. Each
      // downtime entry publishes the ward again, and a ward's forms took most of that run (demo: 110 of 156 renders).
      const address = `form/${f.id}/${patientKey(p)}`;
      const renderKey = crypto.createHash('sha256').update(JSON.stringify([look.fingerprint, f.id, stamp, t('marking'), asOf])).digest('hex');
      const meta: NewArtifact = { address, kind: 'document', mediaType: 'application/pdf', title: f.title, patientKey: patientKey(p), asOf: snap.asOf, renderKey };
      const prev = opts.previous?.(address);
      if (prev && prev.renderKey === renderKey) {
        artifacts.add({ meta: { ...meta, pages: prev.pages, asOf: prev.asOf }, reused: { sha256: prev.sha256, size: prev.size } });
        continue;
      }
      await artifacts.render(meta, () => renderer.form(blank, f, stamp, { text: t('marking'), asOf }));
    }
  }
}
