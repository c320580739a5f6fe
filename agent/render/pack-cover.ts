import type { Block, DocumentSpec } from './blocks.js';
import { formatDateTime, type Translate } from './i18n.js';

/** What the cover of one ward's downtime pack lists, gathered by the outage room. */
export interface PackCoverData {
  ward: string;
  jobTitle: string;
  downtime: { id: number; startedAt: string; cause: string };
  snapshot: { id: number; asOf: string | null };
  printer: string;
  /** In print order, after this cover. */
  documents: { title: string; detail: string | null; pages: number | null }[];
  /** The ward page, where every document can be printed again. */
  pageUrl: string;
  /** Whom to call when the pack is wrong or the box is down. */
  contact: string | null;
}

/**
 * The first sheet of a downtime pack: what it holds and in which order, how
 * many pages each part has (so a missing page is noticed), how old the data
 * is, which printer it came from, where the ward page is and whom to call.
 */
export function packCoverDocument(d: PackCoverData, ctx: { t: Translate; timeZone: string; hospital: string; renderedAt: Date; size: 'A4' | 'LETTER' }): DocumentSpec {
  const { t, timeZone: tz } = ctx;
  const at = (iso: string | null) => (iso ? formatDateTime(iso, tz) ?? iso : t('unknown'));
  const pages = d.documents.reduce((n, x) => n + (x.pages ?? 0), 0) + 1;
  const ageAtStart = d.snapshot.asOf ? Math.round((Date.parse(d.downtime.startedAt) - Date.parse(d.snapshot.asOf)) / 60_000) : null;
  const blocks: Block[] = [
    { type: 'heading', level: 1, text: `${t('pack.title')} — ${d.ward}` },
    {
      type: 'notice',
      title: t('pack.checkTitle'),
      tone: 'normal',
      lines: [t('pack.check', { documents: d.documents.length + 1, pages })],
    },
    {
      type: 'fields',
      items: [
        { label: t('pack.asOf'), value: `${at(d.snapshot.asOf)}${ageAtStart !== null ? ` (${t('pack.ageAtStart', { minutes: ageAtStart })})` : ''}`, tone: ageAtStart === null || ageAtStart > 60 ? 'alert' : 'strong' },
        { label: t('pack.downtimeSince'), value: `${at(d.downtime.startedAt)} — ${d.downtime.cause}` },
        { label: t('pack.printer'), value: d.printer },
        { label: t('pack.page'), value: d.pageUrl, tone: 'strong' },
        { label: t('pack.contact'), value: d.contact ?? t('pack.noContact'), tone: d.contact ? 'strong' : 'alert' },
      ],
    },
    { type: 'heading', level: 3, text: t('pack.contents') },
    {
      type: 'table',
      columns: [
        { label: '#', width: 6 },
        { label: t('downtime.document'), width: 64 },
        { label: t('pack.pages'), width: 12 },
        { label: '☐', width: 8 },
      ],
      rows: [
        { cells: [{ text: '1' }, { text: t('pack.cover'), tone: 'strong' as const }, { text: '1' }, { text: '☐' }] },
        ...d.documents.map((x, i) => ({
          cells: [{ text: String(i + 2) }, { text: x.detail ? `${x.title}\n${x.detail}` : x.title, tone: 'strong' as const }, { text: x.pages === null ? '?' : String(x.pages) }, { text: '☐' }],
        })),
      ],
      empty: t('pack.empty'),
    },
    { type: 'text', text: t('pack.reprint', { url: d.pageUrl }) },
  ];
  return {
    size: ctx.size,
    orientation: 'portrait',
    patient: null,
    metaTitle: `Downtime pack ${d.downtime.id} ${d.jobTitle}`.slice(0, 120),
    blocks,
    stamp: {
      marking: t('marking'),
      documentTitle: t('pack.title'),
      hospital: ctx.hospital,
      ward: d.ward,
      footer: [t('asOf', { time: at(d.snapshot.asOf) }), t('renderedAt', { time: at(ctx.renderedAt.toISOString()) })],
      pageLabel: t('pageLabel'),
      banner: null,
    },
  };
}
