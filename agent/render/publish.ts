import type { WardSnapshot } from '../model/ward.js';
import type { NewArtifact } from '../store/snapshots.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Patient } from '../model/ward.js';
import { patientStamp, planDocuments, snapshotFor, type DocumentKind, type DocumentRequest } from './documents.js';
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
      // The 24 h window's start moves with every pull; what fell inside it is what counts.
      const data = { ...p, administrations: { status: p.administrations.status, items: p.administrations.items } };
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
const RENDERER_VERSION = 3;

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

export async function renderSnapshotDocuments(snap: WardSnapshot, settings: RenderSettings, opts: RenderOptions): Promise<RenderedArtifact[]> {
  const wording = loadWording(settings.templatesDir, settings.language);
  const t = translator(wording);
  const look = loadTemplateSettings(settings.templatesDir);
  const data = { meta: { address: 'data/ward', kind: 'data', mediaType: 'application/json', title: 'Normalized ward data', asOf: snap.asOf }, content: Buffer.from(JSON.stringify(snap)) } as const;
  opts.onArtifact?.(0, data);
  const out: RenderedArtifact[] = [data];
  // Keys are recorded on every run, so the next run can reuse what this one renders.
  const fingerprint = templatesFingerprint(settings.templatesDir, settings);
  const window = (opts.reuseWithinMinutes ?? 60) * 60_000;
  /** Reuse a patient document when nothing it is made from changed and its data is recent enough. */
  const reusable = (address: string, key: string): ReusableDocument | null => {
    const prev = opts.previous?.(address);
    if (!prev || prev.renderKey !== key) return null;
    return Date.parse(snap.asOf) - Date.parse(prev.asOf) <= window ? prev : null;
  };
  // What a render thread builds documents with; `ctx` adds the wording as a function for planning here.
  const context: DocumentRequest['context'] = {
    wording,
    logo: loadLogo(settings.templatesDir, look),
    templatesDir: settings.templatesDir,
    timeZone: settings.timeZone,
    hospital: look.hospitalName ?? settings.hospital,
    size: settings.size ?? look.paper,
    renderedAt: opts.renderedAt,
    standardTimes: standardTimesOf(look),
  };
  const ctx = { ...context, t };
  const planned = planDocuments(snap, settings.documents, ctx);
  const keys = new Map<string, string>();
  const renderKey = renderKeys(fingerprint, snap);
  const reuse = new Map<string, ReusableDocument>();
  for (const d of planned) {
    if (!d.patient) continue;
    const key = renderKey(d.kind, d.patient);
    keys.set(d.address, key);
    const r = reusable(d.address, key);
    if (r) reuse.set(d.address, r);
  }
  // Ward documents are always new; when some patient sheets were reused the census says what that means.
  const oldest = [...reuse.values()].reduce<string | null>((m, r) => (m === null || r.asOf < m ? r.asOf : m), null);
  const censusContext = oldest ? { ...context, asOfNote: t('reusedNote', { time: formatDateTime(oldest, settings.timeZone) ?? oldest }) } : context;
  const renderer = opts.renderer ?? inThreadRenderer;
  const enqueue = boundedRenders(renderer.parallelism * 2, opts.signal);
  // Each entry is filled in when its render is done; order is the order documents are listed and printed in.
  const pending: (RenderedArtifact | Promise<RenderedArtifact>)[] = [];
  const rendering = async (meta: NewArtifact, start: () => Promise<RenderedPdf>) => {
    const { done } = await enqueue(start);
    const index = out.length + pending.length;
    const artifact = done.then(({ pdf, pages }) => {
      const a = { meta: { ...meta, pages }, content: pdf };
      opts.onArtifact?.(index, a);
      return a;
    });
    // Awaited all together at the end; a failure is reported there, not as an unhandled rejection now.
    artifact.catch(() => undefined);
    pending.push(artifact);
  };
  // Nothing is left rendering (or being handed to onArtifact) once this returns or throws.
  try {
    for (const d of planned) {
      const meta: NewArtifact = { address: d.address, kind: 'document', mediaType: 'application/pdf', title: d.title, patientKey: d.patient ? patientKey(d.patient) : null, renderKey: keys.get(d.address) ?? null, asOf: snap.asOf };
      const r = reuse.get(d.address);
      if (r) {
        pending.push({ meta: { ...meta, pages: r.pages, renderKey: r.renderKey, asOf: r.asOf }, reused: { sha256: r.sha256, size: r.size } });
        continue;
      }
      // The census is where the ward's sheets are listed; the note fits its landscape header in both languages.
      // Only what the document reads is sent to the thread (a patient's document: her and her bed).
      const req: DocumentRequest = { kind: d.kind, snap: snapshotFor(d.kind, snap, d.patient), patient: d.patient, context: d.kind === 'census' ? censusContext : context };
      await rendering(meta, () => renderer.document(req));
    }
    if (settings.forms?.length) {
      const defs = loadForms(settings.templatesDir);
      const ctx = { t, templatesDir: settings.templatesDir, timeZone: settings.timeZone, hospital: look.hospitalName ?? settings.hospital, size: settings.size ?? look.paper, renderedAt: opts.renderedAt };
      const asOf = t('asOf', { time: formatDateTime(snap.asOf, settings.timeZone) ?? snap.asOf });
      for (const id of settings.forms) {
        const f = defs.find((d) => d.id === id);
        if (!f) throw new TemplateError('templates/forms/forms.yaml', null, `no form "${id}" (the snapshot job lists it under forms)`);
        const blank = readBlankForm(settings.templatesDir, f);
        const blankArtifact = { meta: { address: `blank/${f.id}`, kind: 'document', mediaType: 'application/pdf', title: f.title }, content: blank } as const;
        opts.onArtifact?.(out.length + pending.length, blankArtifact);
        pending.push(blankArtifact);
        for (const p of patientsInBedOrder(snap)) {
          const stamp = patientStamp(snap, p, ctx);
          stamp.name = coverText(stamp.name).text; // the label's font has no CJK or Thai either
          await rendering({ address: `form/${f.id}/${patientKey(p)}`, kind: 'document', mediaType: 'application/pdf', title: f.title, patientKey: patientKey(p), asOf: snap.asOf }, () =>
            renderer.form(blank, f, stamp, { text: t('marking'), asOf }),
          );
        }
      }
    }
  } catch (err) {
    await Promise.allSettled(pending);
    throw err;
  }
  const settled = await Promise.allSettled(pending);
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  out.push(...settled.map((r) => (r as PromiseFulfilledResult<RenderedArtifact>).value));
  return out;
}
