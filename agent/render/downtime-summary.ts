import type { WardSnapshot } from '../model/ward.js';
import { patientKey, patientsInBedOrder } from '../model/helpers.js';
import type { Block, DocumentSpec } from './blocks.js';
import { formatDateTime, type Translate } from './i18n.js';

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
}

function duration(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 90 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
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
  const blocks: Block[] = [
    { type: 'heading', level: 1, text: t('downtime.title') },
    {
      type: 'fields',
      items: [
        { label: t('downtime.started'), value: at(d.startedAt), tone: 'strong' },
        { label: t('downtime.ended'), value: at(d.endedAt), tone: 'strong' },
        { label: t('downtime.duration'), value: duration(Date.parse(d.endedAt) - start.getTime()) },
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
          { text: s.asOf ? duration(start.getTime() - Date.parse(s.asOf)) : t('unknown'), tone: s.asOf && start.getTime() - Date.parse(s.asOf) > 3_600_000 ? 'alert' : undefined },
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
          { text: `${p.address}${p.copies > 1 ? ` ×${p.copies}` : ''}` },
          { text: p.printerId },
          { text: p.reason === 'downtime' ? t('downtime.auto') : p.requestedBy },
          { text: `${p.state}${p.error ? `: ${p.error}` : ''}`, tone: p.state === 'failed' ? 'alert' : undefined },
        ],
      })),
      empty: t('downtime.nothingPrinted'),
    },
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
          { text: [...docs.map((x) => (x ?? '').toUpperCase()), ...wardDocs].join(', ') || '—' },
          { text: [`☐ ${t('downtime.entry.mar')}`, `☐ ${t('downtime.entry.orders')}`, `☐ ${t('downtime.entry.notes')}`].join('\n') },
          { text: '' },
        ],
      };
    });
    blocks.push({ type: 'heading', level: 3, text: s.title });
    blocks.push({
      type: 'table',
      columns: [
        { label: t('census.bed'), width: 8 },
        { label: t('census.patient'), width: 22 },
        { label: t('downtime.onPaper'), width: 18 },
        { label: t('downtime.toEnter'), width: 34 },
        { label: t('downtime.doneBy'), width: 18 },
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
      marking: t('marking'),
      documentTitle: t('downtime.title'),
      hospital: ctx.hospital,
      ward: d.snapshots.map((s) => s.ward?.ward.name ?? s.jobId).join(', '),
      footer: [`${t('downtime.title')} #${d.id}: ${at(d.startedAt)} – ${at(d.endedAt)}`, t('renderedAt', { time: at(ctx.renderedAt.toISOString()) })],
      pageLabel: t('pageLabel'),
      banner: null,
    },
  };
}
