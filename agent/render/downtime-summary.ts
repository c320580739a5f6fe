import { dueTimes } from '../model/due-times.js';
import type { Patient, WardSnapshot } from '../model/ward.js';
import { patientKey, patientsInBedOrder } from '../model/helpers.js';
import type { Block, DocumentSpec } from './blocks.js';
import { formatDateTime, type Translate } from './i18n.js';
import { DOCUMENT_TITLE_KEYS, titleOf, type DocumentKind } from './documents.js';
import { describePrint } from './print-words.js';
import { shortDrug } from './views.js';

/** What happened during one downtime, gathered by the outage room; plain data, no store access here. */
export interface DowntimeSummaryData {
  id: number;
  kind: string;
  cause: string;
  startedAt: string;
  endedAt: string;
  declaredBy: string | null;
  endedBy: string | null;
  snapshots: { jobId: string; title: string; snapshotId: number | null; asOf: string | null; ward: WardSnapshot | null }[];
  prints: { at: string; address: string; printerId: string; requestedBy: string; copies: number; state: string; error: string | null; reason: string }[];
  /** Break-glass sign-ins during the downtime. */
  breakGlass: { at: string; actor: string }[];
  /** Entries recorded on the box during it, counted by kind and filing state (when the summary was made). */
  entries: { kind: string; state: string; n: number }[];
  /** Patients admitted on the box during it (downtime numbers issued). */
  admissions: number;
}

/** A printed document as staff know it: its title, and for a patient's document her bed and name, never an address. */
function printedTitle(address: string, d: DowntimeSummaryData, t: Translate): string {
  const s = d.snapshots.find((x) => x.jobId === address.split('/')[0]);
  const w = describePrint(address, () => s?.ward ?? null, t);
  return `${w.title}${w.patient ? ` — ${t('census.bed')} ${w.bed}, ${w.patient.name ?? w.patient.mrn ?? ''}` : ''}${s && d.snapshots.length > 1 ? ` (${s.title})` : ''}`;
}

/** A downtime can last weeks: per order, how many doses fell due in it, and the first and last, rather than every time. */
function dosesDueWords(p: Patient, from: Date, to: Date, tz: string, t: Translate): string {
  if (p.orders.status !== 'available') return t('mar.ordersUnavailable');
  const at = (ms: number) => formatDateTime(new Date(ms).toISOString(), tz) ?? '';
  const lines: string[] = [];
  for (const o of p.orders.items) {
    if (o.prn || o.status !== 'active') continue;
    const times: number[] = [];
    for (let day = from.getTime(); day < to.getTime() && times.length < 2000; day += 86_400_000) {
      for (const s of dueTimes(o, new Date(day), tz).slots) if (s.at.getTime() < to.getTime()) times.push(s.at.getTime());
    }
    if (times.length === 0) continue;
    lines.push(`${shortDrug(o.drug)}: ${times.length === 1 ? at(times[0]!) : t('downtime.dosesDue', { n: times.length, first: at(times[0]!), last: at(times.at(-1)!) })}`);
  }
  return lines.join('\n') || t('downtime.noDosesDue');
}

/** How much was recorded on the box, by kind, and how much of it is already in the HIS. */
function entriesWords(d: DowntimeSummaryData, t: Translate): Block {
  const total = d.entries.reduce((s, e) => s + e.n, 0);
  if (total === 0 && d.admissions === 0) return { type: 'text', text: t('downtime.noEntries') };
  const of = (kind: string) => d.entries.filter((e) => e.kind === kind).reduce((s, e) => s + e.n, 0);
  const filed = d.entries.filter((e) => e.state === 'filed').reduce((s, e) => s + e.n, 0);
  return {
    type: 'fields',
    items: [
      { label: t('downtime.entriesRecorded'), value: t('downtime.entriesByKind', { total, doses: of('administration'), vitals: of('vitals'), notes: of('note'), moves: of('transfer') + of('discharge'), admissions: d.admissions }), tone: 'strong' },
      { label: t('downtime.entriesFiled'), value: t('downtime.entriesFiledWords', { filed, total, rest: total - filed }), tone: filed < total ? 'alert' : undefined },
    ],
  };
}

/** "45 min", "30 h 5 min" in the paper's language. */
function duration(ms: number, t: Translate): string {
  const m = Math.round(ms / 60_000);
  return m < 90 ? t('duration.minutes', { m }) : t('duration.hours', { h: Math.floor(m / 60), m: m % 60 });
}

/**
 * The downtime summary: when, how long, which snapshots were on paper and how
 * old they were, what was printed and by whom, and per patient what must be
 * entered into the HIS now that it is back.
 */
export function downtimeSummaryDocument(d: DowntimeSummaryData, ctx: { t: Translate; timeZone: string; hospital: string; renderedAt: Date; size: 'A4' | 'LETTER' }): DocumentSpec {
  const { t, timeZone: tz } = ctx;
  const at = (iso: string | null) => (iso ? formatDateTime(iso, tz) ?? iso : t('unknown'));
  const start = new Date(d.startedAt);
  const end = new Date(d.endedAt);
  const blocks: Block[] = [
    { type: 'heading', level: 1, text: t('downtime.title') },
    {
      type: 'fields',
      items: [
        { label: t('downtime.started'), value: at(d.startedAt), tone: 'strong' },
        { label: t('downtime.ended'), value: at(d.endedAt), tone: 'strong' },
        { label: t('downtime.duration'), value: duration(Date.parse(d.endedAt) - start.getTime(), t) },
        { label: t('downtime.kind'), value: t(`downtime.kind.${d.kind}`) },
        { label: t('downtime.cause'), value: d.cause },
        { label: t('downtime.declaredBy'), value: [d.declaredBy, d.endedBy].filter(Boolean).join(' / ') || '—' },
      ],
    },
    { type: 'heading', level: 3, text: t('downtime.snapshots') },
    {
      type: 'table',
      columns: [
        { label: t('downtime.job'), width: 30 },
        { label: t('downtime.snapshot'), width: 12 },
        { label: t('downtime.asOf'), width: 28 },
        { label: t('downtime.ageAtStart'), width: 30 },
      ],
      rows: d.snapshots.map((s) => ({
        cells: [
          { text: s.title, tone: 'strong' },
          { text: s.snapshotId === null ? t('downtime.noSnapshot') : String(s.snapshotId), tone: s.snapshotId === null ? 'alert' : undefined },
          { text: at(s.asOf) },
          { text: s.asOf ? duration(start.getTime() - Date.parse(s.asOf), t) : t('unknown'), tone: s.asOf && start.getTime() - Date.parse(s.asOf) > 3_600_000 ? 'alert' : undefined },
        ],
      })),
      empty: t('downtime.noSnapshot'),
    },
    { type: 'heading', level: 3, text: t('downtime.printed') },
    {
      type: 'table',
      columns: [
        { label: t('downtime.time'), width: 18 },
        { label: t('downtime.document'), width: 26 },
        { label: t('downtime.printer'), width: 14 },
        { label: t('downtime.by'), width: 20 },
        { label: t('downtime.state'), width: 22 },
      ],
      rows: d.prints.map((p) => ({
        cells: [
          { text: at(p.at) },
          { text: `${printedTitle(p.address, d, t)}${p.copies > 1 ? ` ×${p.copies}` : ''}` },
          { text: p.printerId },
          { text: p.reason === 'downtime' ? t('downtime.auto') : p.requestedBy },
          { text: `${t(`ui.state.${p.state}`)}${p.error && p.state !== 'completed' ? `: ${p.error}` : ''}`, tone: p.state === 'failed' ? 'alert' : undefined },
        ],
      })),
      empty: t('downtime.nothingPrinted'),
    },
    { type: 'heading', level: 3, text: t('downtime.breakGlass') },
    d.breakGlass.length
      ? { type: 'table', columns: [{ label: t('downtime.time'), width: 30 }, { label: t('downtime.breakGlassWho'), width: 70 }], rows: d.breakGlass.map((b) => ({ cells: [{ text: at(b.at) }, { text: b.actor, tone: 'strong' as const }] })) }
      : { type: 'text', text: t('downtime.noBreakGlass') },
    { type: 'heading', level: 3, text: t('downtime.entries') },
    entriesWords(d, t),
    { type: 'heading', level: 2, text: t('downtime.backEntry') },
    { type: 'text', text: t('downtime.backEntryHelp', { from: at(d.startedAt), to: at(d.endedAt) }) },
  ];
  for (const s of d.snapshots) {
    if (!s.ward) continue;
    const printedFor = (key: string) => d.prints.filter((p) => p.address.startsWith(`${s.jobId}/`) && p.address.endsWith(`/${key}`)).map((p) => p.address.split('/')[1]);
    const rows = patientsInBedOrder(s.ward).map((p) => {
      const key = patientKey(p);
      const docs = [...new Set(printedFor(key))];
      const wardDocs = d.prints.some((x) => x.address === `${s.jobId}/census`) ? [t('census.title')] : [];
      return {
        minHeight: 30,
        cells: [
          { text: s.ward!.beds.find((b) => b.id === p.bedId)?.label ?? '—', tone: 'strong' as const },
          { text: `${p.name ?? t('unknown')}\n${p.mrn ?? t('unknown')}`, tone: 'strong' as const },
          { text: [...docs.map((x) => (x && x in DOCUMENT_TITLE_KEYS ? titleOf(x as DocumentKind, t) : (x ?? ''))), ...wardDocs].join(', ') || '—' },
          { text: dosesDueWords(p, start, end, tz, t) },
          { text: [`☐ ${t('downtime.entry.mar')}`, `☐ ${t('downtime.entry.orders')}`, `☐ ${t('downtime.entry.notes')}`].join('\n') },
          { text: '' },
        ],
      };
    });
    blocks.push({ type: 'heading', level: 3, text: s.title });
    blocks.push({
      type: 'table',
      columns: [
        { label: t('census.bed'), width: 9 },
        { label: t('census.patient'), width: 15 },
        { label: t('downtime.onPaper'), width: 14 },
        { label: t('downtime.dueDuring'), width: 28 },
        { label: t('downtime.toEnter'), width: 22 },
        { label: t('downtime.doneBy'), width: 12 },
      ],
      rows,
      empty: t('census.noPatients'),
    });
  }
  return {
    size: ctx.size,
    orientation: 'portrait',
    patient: null,
    metaTitle: `Downtime summary ${d.id}`,
    blocks,
    stamp: {
      // A record of the downtime, not a copy of HIS data: it does not say DOWNTIME COPY.
      marking: t('downtime.marking'),
      documentTitle: t('downtime.title'),
      hospital: ctx.hospital,
      ward: d.snapshots.map((s) => s.ward?.ward.name ?? s.jobId).join(', '),
      footer: [`${t('downtime.title')} #${d.id}: ${at(d.startedAt)} – ${at(d.endedAt)}`, t('renderedAt', { time: at(ctx.renderedAt.toISOString()) })],
      pageLabel: t('pageLabel'),
      banner: null,
    },
  };
}
