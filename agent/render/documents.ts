import type { Patient, WardSnapshot } from '../model/ward.js';
import { ageInYears, patientById, patientKey, patientsInBedOrder } from '../model/helpers.js';
import type { Block, DocumentSpec, PatientStamp, Stamp } from './blocks.js';
import { formatDate, formatDateTime, formatTime, type Translate } from './i18n.js';

export interface RenderContext {
  t: Translate;
  timeZone: string;
  hospital: string;
  size: 'A4' | 'LETTER';
  renderedAt: Date;
  /** What "as of" means for this document (e.g. reused unchanged: "checked unchanged at …"). */
  asOfNote?: string;
}

export type DocumentKind = 'census' | 'mar' | 'summary' | 'allergies';

export interface PlannedDocument {
  address: string;
  kind: DocumentKind;
  title: string;
  patient: Patient | null;
  spec: DocumentSpec;
}

function stamp(ctx: RenderContext, snap: WardSnapshot, title: string): Stamp {
  const { t } = ctx;
  const shrunk = snap.warnings.find((w) => w.code === 'census-shrunk');
  return {
    marking: t('marking'),
    documentTitle: title,
    hospital: ctx.hospital,
    ward: snap.ward.name,
    footer: [
      `${t('asOf', { time: formatDateTime(snap.asOf, ctx.timeZone) ?? snap.asOf })}${ctx.asOfNote ? ` — ${ctx.asOfNote}` : ''}`,
      `${t('source', { source: [snap.source.system, snap.source.location].filter(Boolean).join(' · ') })} · ${t('renderedAt', { time: formatDateTime(ctx.renderedAt.toISOString(), ctx.timeZone) ?? '' })}`,
    ],
    pageLabel: t('pageLabel'),
    banner: shrunk ? t('warning.censusShrunk', { detail: shrunk.message }) : null,
  };
}

const or = (v: string | null | undefined, ctx: RenderContext) => (v && v.trim() ? v : ctx.t('unknown'));

function bedLabel(snap: WardSnapshot, p: Patient): string {
  return snap.beds.find((b) => b.id === p.bedId)?.label ?? '—';
}

export function patientStamp(snap: WardSnapshot, p: Patient, ctx: RenderContext): PatientStamp {
  return {
    name: p.name ?? `(${ctx.t('unknown')})`,
    mrn: p.mrn ?? ctx.t('unknown'),
    birthDate: formatDate(p.birthDate, ctx.timeZone) ?? ctx.t('unknown'),
    bed: `${ctx.t('census.bed')} ${bedLabel(snap, p)}`,
    barcode: p.mrn,
  };
}

function allergySummary(p: Patient, ctx: RenderContext): string {
  switch (p.allergies.status) {
    case 'recorded':
      return `⚠ ${p.allergies.items.map((a) => a.substance).join(', ')}`;
    case 'none-known':
      return 'NKA';
    case 'not-recorded':
      return `${ctx.t('allergy.title')}: ${ctx.t('notRecorded')}`;
    case 'not-pulled':
      return `${ctx.t('allergy.title')}: ${ctx.t('unknown')}`;
  }
}

export function allergyNotice(p: Patient, ctx: RenderContext): Block {
  const { t } = ctx;
  switch (p.allergies.status) {
    case 'recorded':
      return {
        type: 'notice',
        title: `⚠ ${t('allergy.title')}`,
        tone: 'alert',
        lines: p.allergies.items.map((a) => [a.substance, a.reaction, a.criticality === 'high' ? 'HIGH RISK' : null].filter(Boolean).join(' — ')),
      };
    case 'none-known':
      return { type: 'notice', title: t('allergy.title'), tone: 'normal', lines: [t('allergy.noneKnown')] };
    case 'not-recorded':
      return { type: 'notice', title: `⚠ ${t('allergy.title')}`, tone: 'alert', lines: [t('allergy.notRecorded')] };
    case 'not-pulled':
      return { type: 'notice', title: `⚠ ${t('allergy.title')}`, tone: 'alert', lines: [t('allergy.notPulled')] };
  }
}

export function censusDocument(snap: WardSnapshot, ctx: RenderContext): DocumentSpec {
  const { t } = ctx;
  const byId = patientById(snap);
  const asOf = new Date(snap.asOf);
  const sex = (p: Patient) => (p.sex ? t(`sex.${p.sex}`) : '?');
  const rows = snap.beds.map((bed) => {
    const p = bed.patientId ? byId.get(bed.patientId) : undefined;
    if (!p) return { cells: [{ text: bed.label, tone: 'strong' as const }, { text: t('census.empty'), tone: 'muted' as const }, ...Array(7).fill({ text: '' })] };
    const flags = [...p.isolation, allergySummary(p, ctx), ...p.flags.map((f) => f.text)].filter(Boolean).join('\n');
    return {
      cells: [
        { text: bed.label, tone: 'strong' as const },
        { text: p.name ?? `(${t('unknown')})`, tone: 'strong' as const },
        { text: or(p.mrn, ctx) },
        { text: `${ageInYears(p.birthDate, asOf) ?? '?'} / ${sex(p)}` },
        { text: or(formatDate(p.admittedAt, ctx.timeZone), ctx) },
        { text: or(p.attending, ctx) },
        { text: or(p.admittingDiagnosis, ctx) },
        { text: or(p.codeStatus, ctx), tone: p.codeStatus && /DNR|DNI|DNAR/i.test(p.codeStatus) ? ('alert' as const) : undefined },
        { text: flags, tone: p.allergies.status === 'recorded' || p.isolation.length > 0 ? ('alert' as const) : undefined },
      ],
    };
  });
  // Patients with no bed on the ward's map still belong on the census.
  const unbedded = snap.patients.filter((p) => !p.bedId || !snap.beds.some((b) => b.id === p.bedId));
  for (const p of unbedded) {
    rows.push({
      cells: [
        { text: '—', tone: 'strong' as const },
        { text: p.name ?? `(${t('unknown')})`, tone: 'strong' as const },
        { text: or(p.mrn, ctx) },
        { text: `${ageInYears(p.birthDate, asOf) ?? '?'} / ${sex(p)}` },
        { text: or(formatDate(p.admittedAt, ctx.timeZone), ctx) },
        { text: or(p.attending, ctx) },
        { text: or(p.admittingDiagnosis, ctx) },
        { text: or(p.codeStatus, ctx) },
        { text: [...p.isolation, allergySummary(p, ctx)].join('\n') },
      ],
    });
  }
  const blocks: Block[] = [
    { type: 'heading', level: 2, text: `${t('census.title')} — ${snap.ward.name}` },
    { type: 'text', text: t('census.summary', { patients: snap.patients.length, beds: snap.beds.length }), tone: 'muted' },
    {
      type: 'table',
      columns: [
        { label: t('census.bed'), width: 6 },
        { label: t('census.patient'), width: 15 },
        { label: t('census.mrn'), width: 9 },
        { label: t('census.ageSex'), width: 6 },
        { label: t('census.admitted'), width: 8 },
        { label: t('census.attending'), width: 12 },
        { label: t('census.diagnosis'), width: 15 },
        { label: t('census.codeStatus'), width: 7 },
        { label: t('census.flags'), width: 16 },
      ],
      rows,
      empty: t('census.noPatients'),
    },
  ];
  return { size: ctx.size, orientation: 'landscape', stamp: stamp(ctx, snap, t('census.title')), patient: null, blocks, metaTitle: `Census ${snap.ward.id}` };
}

/** The next 24 h of due times from the snapshot time, as "HH:MM" labels in ward time. */
function dueSlots(times: string[], from: Date, tz: string): string[] {
  const start = formatTime(from.toISOString(), tz);
  const sorted = [...times].map((x) => (x === '24:00' ? '00:00' : x)).sort();
  // Rotate so the first column is the next dose due after the snapshot.
  const idx = sorted.findIndex((x) => x >= start);
  return idx <= 0 ? sorted : [...sorted.slice(idx), ...sorted.slice(0, idx)];
}

export function marDocument(snap: WardSnapshot, p: Patient, ctx: RenderContext): DocumentSpec {
  const { t } = ctx;
  const blocks: Block[] = [allergyNotice(p, ctx)];
  const asOf = new Date(snap.asOf);
  const lastGiven = (orderId: string, drug: string) => {
    const a = [...p.administrations.items].reverse().find((x) => (x.orderId ? x.orderId === orderId : x.drug === drug));
    if (!a) return p.administrations.status === 'available' ? t('mar.never') : t('unknown');
    const when = formatDateTime(a.at, ctx.timeZone) ?? a.at;
    return a.status === 'completed' ? `${when}${a.by ? `\n${a.by}` : ''}` : `${when} — ${t('mar.notDone')}`;
  };
  if (p.orders.status === 'not-pulled') {
    blocks.push({ type: 'notice', title: `⚠ ${t('mar.title')}`, tone: 'alert', lines: [t('mar.ordersUnavailable')] });
  } else {
    if (p.administrations.status === 'not-pulled') blocks.push({ type: 'text', text: t('mar.adminsUnavailable'), tone: 'alert' });
    const label = (o: Patient['orders']['items'][number]) =>
      [o.highAlert ? `⚠ ${t('mar.highAlert')}` : null, o.status === 'on-hold' ? `[${t('mar.onHold')}]` : null, o.drug, [o.dose, o.route].filter(Boolean).join(' · ') || t('unknown'), o.instructions]
        .filter(Boolean)
        .join('\n');
    const scheduled = p.orders.items.filter((o) => !o.prn);
    const prn = p.orders.items.filter((o) => o.prn);
    const maxSlots = Math.max(4, ...scheduled.map((o) => o.scheduledTimes.length));
    blocks.push({ type: 'heading', level: 3, text: `${t('mar.scheduled')} — ${t('mar.window', { from: formatDateTime(snap.asOf, ctx.timeZone) ?? '', to: formatDateTime(new Date(asOf.getTime() + 86_400_000).toISOString(), ctx.timeZone) ?? '' })}` });
    blocks.push({
      type: 'table',
      columns: [
        { label: t('mar.drug'), width: 30 },
        { label: t('mar.frequency'), width: 12 },
        { label: t('mar.lastGiven'), width: 14 },
        ...Array.from({ length: maxSlots }, (_, i) => ({ label: i === 0 ? t('mar.times') : '', width: 44 / maxSlots, align: 'center' as const })),
      ],
      rows: scheduled.map((o) => {
        const slots = dueSlots(o.scheduledTimes, asOf, ctx.timeZone);
        return {
          tone: o.highAlert ? ('strong' as const) : undefined,
          minHeight: 24,
          cells: [
            { text: label(o), tone: o.highAlert ? ('alert' as const) : ('strong' as const) },
            { text: or(o.frequency, ctx) },
            { text: lastGiven(o.id, o.drug) },
            ...Array.from({ length: maxSlots }, (_, i) => ({ text: slots[i] ?? (i === 0 && slots.length === 0 ? t('unknown') : ''), tone: 'strong' as const })),
          ],
        };
      }),
      empty: p.orders.items.length === 0 ? t('mar.noOrders') : '—',
    });
    blocks.push({ type: 'heading', level: 3, text: t('mar.prn') });
    blocks.push({
      type: 'table',
      columns: [
        { label: t('mar.drug'), width: 30 },
        { label: t('mar.frequency'), width: 18 },
        { label: t('mar.lastGiven'), width: 14 },
        { label: t('mar.prnRecord'), width: 38 },
      ],
      rows: prn.map((o) => ({
        minHeight: 34,
        cells: [
          { text: label(o), tone: o.highAlert ? ('alert' as const) : ('strong' as const) },
          { text: [o.frequency, o.prnReason ? `PRN: ${o.prnReason}` : null].filter(Boolean).join('\n') || t('unknown') },
          { text: lastGiven(o.id, o.drug) },
          { text: '' },
        ],
      })),
      empty: '—',
    });
  }
  return { size: ctx.size, orientation: 'landscape', stamp: stamp(ctx, snap, t('mar.title')), patient: patientStamp(snap, p, ctx), blocks, metaTitle: `MAR ${patientKey(p)}` };
}

export function summaryDocument(snap: WardSnapshot, p: Patient, ctx: RenderContext): DocumentSpec {
  const { t } = ctx;
  const blocks: Block[] = [
    allergyNotice(p, ctx),
    {
      type: 'fields',
      items: [
        { label: t('summary.codeStatus'), value: or(p.codeStatus, ctx), tone: 'strong' },
        { label: t('summary.weight'), value: p.weightKg !== null ? `${p.weightKg} kg` : t('unknown') },
        { label: t('summary.admitted'), value: or(formatDateTime(p.admittedAt, ctx.timeZone), ctx) },
        { label: t('summary.attending'), value: or(p.attending, ctx) },
        { label: t('census.diagnosis'), value: or(p.admittingDiagnosis, ctx) },
        { label: t('summary.flags'), value: [...p.isolation, ...p.flags.map((f) => f.text)].join('; ') || t('summary.none'), tone: p.isolation.length ? 'alert' : undefined },
      ],
    },
    { type: 'heading', level: 3, text: t('summary.diagnoses') },
    p.diagnoses.status === 'not-pulled'
      ? { type: 'text', text: t('unknown'), tone: 'alert' }
      : { type: 'text', text: p.diagnoses.items.map((d) => `${d.text}${d.code ? ` (${d.code})` : ''}`).join('; ') || t('summary.none') },
    { type: 'heading', level: 3, text: t('summary.medications') },
  ];
  if (p.orders.status === 'not-pulled') blocks.push({ type: 'notice', title: `⚠ ${t('summary.medications')}`, tone: 'alert', lines: [t('mar.ordersUnavailable')] });
  else
    blocks.push({
      type: 'table',
      columns: [
        { label: t('mar.drug'), width: 45 },
        { label: t('mar.frequency'), width: 30 },
        { label: 'PRN', width: 25 },
      ],
      rows: p.orders.items.map((o) => ({
        cells: [
          { text: `${o.highAlert ? `⚠ ${t('mar.highAlert')} ` : ''}${o.drug}\n${[o.dose, o.route].filter(Boolean).join(' · ')}`, tone: o.highAlert ? 'alert' : undefined },
          { text: [o.frequency, o.scheduledTimes.join(' ')].filter(Boolean).join('\n') || t('unknown') },
          { text: o.prn ? o.prnReason ?? 'PRN' : '' },
        ],
      })),
      empty: t('mar.noOrders'),
    });
  return { size: ctx.size, orientation: 'portrait', stamp: stamp(ctx, snap, t('summary.title')), patient: patientStamp(snap, p, ctx), blocks, metaTitle: `Summary ${patientKey(p)}` };
}

export function wardAllergiesDocument(snap: WardSnapshot, ctx: RenderContext): DocumentSpec {
  const { t } = ctx;
  const patients = patientsInBedOrder(snap);
  const rows = patients
    .filter((p) => p.allergies.status !== 'none-known' || p.orders.items.some((o) => o.highAlert))
    .map((p) => ({
      cells: [
        { text: snap.beds.find((b) => b.id === p.bedId)?.label ?? '—', tone: 'strong' as const },
        { text: `${p.name ?? t('unknown')}\n${p.mrn ?? t('unknown')}`, tone: 'strong' as const },
        { text: p.allergies.status === 'recorded' ? p.allergies.items.map((a) => `${a.substance}${a.reaction ? ` (${a.reaction})` : ''}`).join('\n') : allergySummary(p, ctx), tone: p.allergies.status === 'none-known' ? undefined : ('alert' as const) },
        { text: p.orders.status === 'not-pulled' ? t('unknown') : p.orders.items.filter((o) => o.highAlert).map((o) => o.drug).join('\n') },
      ],
    }));
  const blocks: Block[] = [
    { type: 'heading', level: 2, text: `${t('wardAllergies.title')} — ${snap.ward.name}` },
    {
      type: 'table',
      columns: [
        { label: t('census.bed'), width: 8 },
        { label: t('census.patient'), width: 24 },
        { label: t('wardAllergies.allergies'), width: 34 },
        { label: t('wardAllergies.highAlert'), width: 34 },
      ],
      rows,
      empty: t('census.noPatients'),
    },
  ];
  return { size: ctx.size, orientation: 'portrait', stamp: stamp(ctx, snap, t('wardAllergies.title')), patient: null, blocks, metaTitle: `Allergies ${snap.ward.id}` };
}

/** Every document a job asks for, in print order: ward documents first, then per patient by bed. */
export function planDocuments(snap: WardSnapshot, kinds: readonly DocumentKind[], ctx: RenderContext): PlannedDocument[] {
  const out: PlannedDocument[] = [];
  const { t } = ctx;
  if (kinds.includes('census')) out.push({ address: 'census', kind: 'census', title: t('census.title'), patient: null, spec: censusDocument(snap, ctx) });
  if (kinds.includes('allergies')) out.push({ address: 'allergies', kind: 'allergies', title: t('wardAllergies.title'), patient: null, spec: wardAllergiesDocument(snap, ctx) });
  for (const p of patientsInBedOrder(snap)) {
    const key = patientKey(p);
    if (kinds.includes('mar')) out.push({ address: `mar/${key}`, kind: 'mar', title: t('mar.title'), patient: p, spec: marDocument(snap, p, ctx) });
    if (kinds.includes('summary')) out.push({ address: `summary/${key}`, kind: 'summary', title: t('summary.title'), patient: p, spec: summaryDocument(snap, p, ctx) });
  }
  return out;
}
