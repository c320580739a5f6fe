import { csvCell } from '../model/csv.js';
import type { DowntimeEntryLine } from '../model/ward.js';
import type { Block, DocumentSpec } from './blocks.js';
import { entryWords } from './entry-words.js';
import { formatDate, formatDateTime, type Translate } from './i18n.js';

/** A row of the back-entry list (outage/back-entry.ts), as this room needs it. */
export interface BackEntryItem {
  section: 'adt' | 'medications' | 'vitals' | 'notes';
  bed: string;
  name: string;
  mrn: string;
  line: DowntimeEntryLine | null;
  admission: { number: string; name: string; birthDate: string; sex: string; bed: string | null; enteredAt: string; enteredBy: string } | null;
  state: string;
  uid: string;
}

function words(r: BackEntryItem, t: Translate, tz: string): { at: string; what: string; who: string } {
  if (r.admission) {
    const a = r.admission;
    return { at: formatDateTime(a.enteredAt, tz) ?? a.enteredAt, what: t('backEntry.admission', { number: a.number, born: formatDate(a.birthDate, tz) ?? a.birthDate, sex: t(a.sex === 'unknown' ? 'label.sexUnknown' : `sex.${a.sex}`) }), who: a.enteredBy };
  }
  const w = entryWords(r.line!, t, tz);
  return { at: w.at, what: w.what, who: w.who };
}

/**
 * The back-entry list as paper: one table per section in the order sites
 * back-enter, each row with a box to tick and a space to initial when it is
 * in the HIS. Landscape, for the long lines of a dose with its reason.
 */
export function backEntryDocument(rows: BackEntryItem[], ctx: { t: Translate; timeZone: string; hospital: string; ward: string; renderedAt: Date; size: 'A4' | 'LETTER' }): DocumentSpec {
  const { t, timeZone: tz } = ctx;
  const blocks: Block[] = [{ type: 'heading', level: 1, text: t('backEntry.title') }, { type: 'text', text: t('backEntry.help') }];
  for (const section of ['adt', 'medications', 'vitals', 'notes'] as const) {
    const mine = rows.filter((r) => r.section === section);
    blocks.push({ type: 'heading', level: 3, text: t(`backEntry.section.${section}`) });
    blocks.push({
      type: 'table',
      columns: [
        { label: '☐', width: 4 },
        { label: t('census.bed'), width: 7 },
        { label: t('census.patient'), width: 17 },
        { label: t('entry.time'), width: 12 },
        { label: t('entry.what'), width: 30 },
        { label: t('entry.who'), width: 18 },
        { label: t('backEntry.doneBy'), width: 12 },
      ],
      rows: mine.map((r) => {
        const w = words(r, t, tz);
        return { minHeight: 22, cells: [{ text: '☐', tone: 'strong' as const }, { text: r.bed, tone: 'strong' as const }, { text: `${r.name}\n${r.mrn}`, tone: 'strong' as const }, { text: w.at }, { text: w.what }, { text: `${w.who}\n${t(`backEntry.state.${r.state}`)}` }, { text: '' }] };
      }),
      empty: t('backEntry.none'),
    });
  }
  const at = (d: Date) => formatDateTime(d.toISOString(), tz) ?? '';
  return {
    size: ctx.size,
    orientation: 'landscape',
    patient: null,
    metaTitle: 'Back-entry list',
    blocks,
    stamp: {
      // A worklist of what the box recorded, not a copy of HIS data.
      marking: t('backEntry.marking'),
      documentTitle: t('backEntry.title'),
      hospital: ctx.hospital,
      ward: ctx.ward,
      footer: [t('backEntry.count', { n: rows.length }), t('renderedAt', { time: at(ctx.renderedAt) })],
      pageLabel: t('pageLabel'),
      banner: null,
    },
  };
}

/** The same list as CSV for a spreadsheet, with the BOM Excel needs to read UTF-8, one row per item. */
export function backEntryCsv(rows: BackEntryItem[], t: Translate, timeZone: string): string {
  const header = ['section', 'bed', 'patient', 'mrn', 'happened_at', 'what', 'entered_by', 'state', 'entry_id'];
  const lines = rows.map((r) => {
    const w = words(r, t, timeZone);
    return [t(`backEntry.section.${r.section}`), r.bed, r.name, r.mrn, w.at, w.what, w.who.replace(/\n/g, ' · '), r.state, r.uid].map(csvCell).join(',');
  });
  return `\ufeff${[header.join(','), ...lines].join('\r\n')}\r\n`;
}
