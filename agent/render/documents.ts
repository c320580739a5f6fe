import { wardLabel, type Patient, type WardSnapshot } from '../model/ward.js';
import { patientKey, patientsInBedOrder } from '../model/helpers.js';
import type { DocumentSpec, PatientStamp, Stamp } from './blocks.js';
import { formatDate, formatDateTime, translator, type Translate, type Wording } from './i18n.js';
import { renderDocumentTemplate } from './templates.js';
import { coverDocument, MISSING_MARK } from './coverage.js';
import type { StandardTimes } from '../model/due-times.js';
import { handoffView } from './handoff-view.js';
import { allergyShort, bodyWords, censusView, marView, summaryView, wardAllergiesView } from './views.js';

export interface RenderContext {
  t: Translate;
  /** templates/ folder: documents/*.hbs, i18n/, settings.yaml. */
  templatesDir: string;
  timeZone: string;
  hospital: string;
  size: 'A4' | 'LETTER';
  renderedAt: Date;
  /** Logo bytes for the page header, from templates/settings.yaml. */
  logo?: Buffer | null;
  /** What "as of" means for this document (e.g. reused unchanged: "checked unchanged at …"). */
  asOfNote?: string;
  /** The site's standard administration times, merged over the built-in ones. */
  standardTimes?: StandardTimes;
}

export type DocumentKind = 'census' | 'mar' | 'summary' | 'allergies' | 'handoff';

/**
 * A document to be built from data and drawn, in a form that can be posted
 * to a render thread: the template is applied there too, so the daemon's main
 * thread (which serves the ward page) does not parse markup for a hospital.
 */
export interface DocumentRequest {
  kind: DocumentKind;
  /** For a patient's document, the ward with that patient and her bed alone: a patient's views read no one else. */
  snap: WardSnapshot;
  patient: Patient | null;
  /** The render context with its wording as data. */
  context: Omit<RenderContext, 't'> & { wording: Wording };
}

/**
 * The part of the ward a document is drawn from: all that is posted to a
 * render thread for it. A patient's documents get her and her bed; the
 * census gets every patient without orders or doses, the ward allergy list
 * and the handoff sheet without doses (their views read no more). Doses and orders are most of a
 * ward's data: the census of 40 posted 328 kB, now 32 kB.
 */
export function snapshotFor(kind: DocumentKind, snap: WardSnapshot, patient: Patient | null): WardSnapshot {
  if (patient) {
    // Her sheets count her own downtime entries in their footer, not the ward's: a sheet is then all
    // her data (its render key), and an entry for one patient leaves the others' sheets as they were.
    const { downtimeEntries: _ward, ...rest } = snap;
    const mine = patient.downtimeEntries ?? [];
    const own = mine.length ? { downtimeEntries: { count: mine.length, through: mine.reduce((m, e) => (e.enteredAt > m ? e.enteredAt : m), ''), departures: [], admissions: 0 } } : {};
    return { ...rest, ...own, patients: [patient], beds: snap.beds.filter((b) => b.id === patient.bedId) };
  }
  const slim = (p: Patient): Patient => ({
    ...p,
    administrations: { ...p.administrations, items: [] },
    orders: kind === 'census' ? { ...p.orders, items: [] } : p.orders,
    // Results and the clinical course are printed on a patient's summary only.
    ...(p.results ? { results: { ...p.results, items: [] } } : {}),
    ...(p.clinicalCourse ? { clinicalCourse: [] } : {}),
    ...(p.downtimeEntries ? { downtimeEntries: [] } : {}),
  });
  return kind === 'census' || kind === 'allergies' || kind === 'handoff' ? { ...snap, patients: snap.patients.map(slim) } : snap;
}

export function buildDocument(req: DocumentRequest): DocumentSpec {
  const { wording, ...rest } = req.context;
  return documentSpec(req.kind, req.snap, req.patient, { ...rest, t: translator(wording) });
}

export interface PlannedDocument {
  address: string;
  kind: DocumentKind;
  title: string;
  patient: Patient | null;
  /** Built only when asked: a kept (reused) document is never built. `ctx` defaults to the plan's. */
  spec(ctx?: RenderContext): DocumentSpec;
}

function stamp(ctx: RenderContext, snap: WardSnapshot, title: string): Stamp {
  const { t } = ctx;
  const shrunk = snap.warnings.find((w) => w.code === 'census-shrunk');
  return {
    marking: t('marking'),
    documentTitle: title,
    hospital: ctx.hospital,
    ward: wardLabel(snap.ward),
    footer: [
      [
        t('asOf', { time: formatDateTime(snap.asOf, ctx.timeZone) ?? snap.asOf }),
        // Entries made on this box change what paper says: every page says so, and up to when.
        snap.downtimeEntries ? t('entry.asOfNote', { n: snap.downtimeEntries.count + snap.downtimeEntries.admissions, time: formatDateTime(snap.downtimeEntries.through, ctx.timeZone) ?? '' }) : null,
        ctx.asOfNote ?? null,
      ].filter(Boolean).join(' — '),
      `${t('source', { source: [snap.source.system, snap.source.location].filter(Boolean).join(' · ') })} · ${t('renderedAt', { time: formatDateTime(ctx.renderedAt.toISOString(), ctx.timeZone) ?? '' })}`,
    ],
    pageLabel: t('pageLabel'),
    banner: shrunk ? t('warning.censusShrunk', { detail: shrunk.message }) : null,
    logo: ctx.logo ?? null,
  };
}

function bedLabel(snap: WardSnapshot, p: Patient): string {
  return snap.beds.find((b) => b.id === p.bedId)?.label ?? '—';
}

export function patientStamp(snap: WardSnapshot, p: Patient, ctx: RenderContext, opts: { alert?: boolean } = {}): PatientStamp {
  const { t } = ctx;
  return {
    name: `${p.name ?? `(${t('unknown')})`}${p.deceased ? ` — † ${t('patient.deceased')}` : ''}`,
    mrn: p.mrn ?? t('unknown'),
    birthDate: formatDate(p.birthDate, ctx.timeZone) ?? t('unknown'),
    bed: `${t('census.bed')} ${bedLabel(snap, p)}`,
    barcode: p.mrn,
    mrnLabel: t('census.mrn'),
    ...(p.bandIds?.length ? { ids: p.bandIds.map((x) => `${t(`band.${x.kind}`)} ${x.value}`).join('   ·   ') } : {}),
    alert: opts.alert
      ? [allergyShort(p, ctx), `${t('census.codeStatus')}: ${p.codeStatus ?? t('unknown')}`, ...Object.values(bodyWords(p, ctx, new Date(snap.asOf))).filter(Boolean)].join('   ·   ')
      : null,
  };
}

const TEMPLATE_FOR: Record<DocumentKind, string> = { census: 'census', mar: 'mar', summary: 'summary', allergies: 'allergies', handoff: 'handoff' };

/**
 * One document: its view model rendered through templates/documents/KIND.hbs
 * into blocks, wrapped in the stamp and patient band that every page carries.
 * The stamp is drawn by code, not the template, so no template edit can drop
 * "DOWNTIME COPY", the data's age or the page numbers.
 */
export function documentSpec(kind: DocumentKind, snap: WardSnapshot, patient: Patient | null, ctx: RenderContext): DocumentSpec {
  const { t } = ctx;
  const view = { census: () => censusView(snap, ctx), allergies: () => wardAllergiesView(snap, ctx), handoff: () => handoffView(snap, ctx), mar: () => marView(snap, patient!, ctx), summary: () => summaryView(snap, patient!, ctx) }[kind]();
  const parsed = renderDocumentTemplate(ctx.templatesDir, TEMPLATE_FOR[kind], view, t);
  const title = titleOf(kind, t);
  // Nothing the font cannot draw reaches the page as an empty box: it is marked, and the sheet says so.
  return coverDocument(
    {
      size: ctx.size,
      orientation: parsed.orientation,
      stamp: stamp(ctx, snap, title),
      patient: patient ? patientStamp(snap, patient, ctx, { alert: kind === 'mar' || kind === 'summary' }) : null,
      blocks: parsed.blocks,
      // PDF metadata travels into print queues: no names, only the document and a key.
      metaTitle: patient ? `${kind} ${patientKey(patient)}` : `${kind} ${snap.ward.id}`,
    },
    (n) => t('warning.unprintable', { n, mark: MISSING_MARK }),
  );
}

/** The wording key of each document's title: paper, page and print lists name documents from here. */
export const DOCUMENT_TITLE_KEYS: Record<DocumentKind, string> = { census: 'census.title', allergies: 'wardAllergies.title', handoff: 'handoff.title', mar: 'mar.title', summary: 'summary.title' };

/** A document's title in the sheet's language. */
export const titleOf = (kind: DocumentKind, t: (key: string) => string): string => t(DOCUMENT_TITLE_KEYS[kind]);

/** Kept for callers that want the census alone (bench, tests). */
export const censusDocument = (snap: WardSnapshot, ctx: RenderContext) => documentSpec('census', snap, null, ctx);

/** Every document a job asks for, in print order: ward documents first, then per patient by bed. */
export function planDocuments(snap: WardSnapshot, kinds: readonly DocumentKind[], ctx: RenderContext): PlannedDocument[] {
  const out: PlannedDocument[] = [];
  const { t } = ctx;
  const plan = (kind: DocumentKind, address: string, title: string, patient: Patient | null) =>
    out.push({ address, kind, title, patient, spec: (c = ctx) => documentSpec(kind, snap, patient, c) });
  for (const kind of ['census', 'allergies', 'handoff'] as const) if (kinds.includes(kind)) plan(kind, kind, titleOf(kind, t), null);
  for (const p of patientsInBedOrder(snap)) {
    const key = patientKey(p);
    if (kinds.includes('mar')) plan('mar', `mar/${key}`, titleOf('mar', t), p);
    if (kinds.includes('summary')) plan('summary', `summary/${key}`, titleOf('summary', t), p);
  }
  return out;
}
