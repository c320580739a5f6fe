import { LAB_WINDOW_HOURS, VITALS_WINDOW_HOURS, type Allergy, type AllergyList, type Patient, type Result, type WardSnapshot } from '../model/ward.js';
import { dueTimes, type StandardTimes } from '../model/due-times.js';
import { ageLabel, bedOccupancy, patientsInBedOrder } from '../model/helpers.js';
import { formatDate, formatDateTime, type Translate } from './i18n.js';
import { dosesWithoutOrder, frequencyWords, lastGivenWords, orderCell, slotWords } from './order-words.js';
import { departureWords, entryWords } from './entry-words.js';

/**
 * View models: what each template in templates/documents sees. Every value is
 * already a display string in the document's language and time zone; unknown
 * values are spelled out ("unknown"), never left blank. Tones are '' or one of
 * alert, strong, muted.
 */

export interface ViewContext {
  t: Translate;
  timeZone: string;
  /** The site's standard administration times (templates/settings.yaml); the defaults when unset. */
  standardTimes?: StandardTimes;
}

const or = (v: string | null | undefined, ctx: ViewContext) => (v && v.trim() ? v : ctx.t('unknown'));
const bedLabel = (snap: WardSnapshot, p: Patient) => snap.beds.find((b) => b.id === p.bedId)?.label ?? '—';

/**
 * A bed's label, marked ⚠ when the source places more than one patient in it
 * (the words go in the wider patient cell: a bed column is too narrow for them).
 */
export function markedBedLabel(snap: WardSnapshot, p: Patient, conflicts: Set<string>): string {
  const bed = snap.beds.find((b) => b.id === p.bedId);
  if (!bed) return '—';
  return conflicts.has(bed.id) ? `${bed.label} ⚠` : bed.label;
}

/** The patient cell's note for a shared bed or no bed, or null. */
export function placementNote(snap: WardSnapshot, p: Patient, ctx: ViewContext, conflicts: Set<string>): string | null {
  if (!p.bedId || !snap.beds.some((b) => b.id === p.bedId)) return `⚠ ${ctx.t('census.noBed')}`;
  return conflicts.has(p.bedId) ? `⚠ ${ctx.t('census.bedConflict')}` : null;
}

/** What a "none known" list covers: everything (NKA, or a list stored before kinds were kept), or only some kinds (NKDA). */
const knownAbsentKinds = (l: AllergyList): string[] | 'all' => (!l.absent || l.absent.length === 0 || l.absent.includes('all') ? 'all' : l.absent);

const kindsWords = (kinds: string[], t: Translate) => kinds.map((k) => t(`allergy.kind.${k}`)).join(', ');

/** High-risk allergies first: on a long list they must not be the line a nurse misses. */
const highRiskFirst = (items: readonly Allergy[]) => [...items].sort((a, b) => Number(b.criticality === 'high') - Number(a.criticality === 'high'));

/** An allergy in a line: high criticality and unconfirmed said in words, so they survive a black-and-white copy. */
const allergyLine = (a: Allergy, t: Translate, full = true) => {
  // On a patient's own sheets: the category and a criticality other than high (which leads the line) too.
  const about = full ? [a.category ? t(`allergy.category.${a.category}`) : null, a.criticality && a.criticality !== 'high' ? t(`allergy.criticality.${a.criticality}`) : null].filter(Boolean).join(', ') : '';
  return [a.criticality === 'high' ? `‼ ${t('allergy.highRisk')}:` : null, a.substance, full && a.reaction ? `(${a.reaction})` : null, about ? `— ${about}` : null, a.unconfirmed ? `[${t('allergy.unconfirmed')}]` : null, full && a.source ? `[${t('allergy.fromSource', { source: a.source })}]` : null].filter(Boolean).join(' ');
};

export function allergyView(p: Patient, ctx: ViewContext): { title: string; tone: 'alert' | 'normal'; lines: string[] } {
  const { t } = ctx;
  switch (p.allergies.status) {
    case 'recorded':
      return { title: `⚠ ${t('allergy.title')}`, tone: 'alert', lines: highRiskFirst(p.allergies.items).map((a) => allergyLine(a, t)) };
    case 'none-known': {
      const kinds = knownAbsentKinds(p.allergies);
      if (kinds === 'all') return { title: t('allergy.title'), tone: 'normal', lines: [t('allergy.noneKnown')] };
      return { title: `⚠ ${t('allergy.title')}`, tone: 'alert', lines: [t('allergy.noneKnownOf', { kinds: kindsWords(kinds, t) })] };
    }
    case 'not-recorded':
      return { title: `⚠ ${t('allergy.title')}`, tone: 'alert', lines: [t('allergy.notRecorded')] };
    case 'not-pulled':
      return { title: `⚠ ${t('allergy.title')}`, tone: 'alert', lines: [t('allergy.notPulled')] };
  }
}

/** The allergy cell of a census row (paper and page). */
export function allergyShort(p: Patient, ctx: ViewContext): string {
  const { t } = ctx;
  switch (p.allergies.status) {
    case 'recorded':
      return `⚠ ${highRiskFirst(p.allergies.items).map((a) => allergyLine(a, t, false)).join(', ')}`;
    case 'none-known': {
      const kinds = knownAbsentKinds(p.allergies);
      return kinds === 'all' ? t('allergy.nkaShort') : `⚠ ${t('allergy.noneKnownOfShort', { kinds: kindsWords(kinds, t) })}`;
    }
    case 'not-recorded':
      return `⚠ ${t('allergy.title')}: ${t('notRecorded')}`;
    case 'not-pulled':
      return `⚠ ${t('allergy.title')}: ${t('unknown')}`;
  }
}

/** A measurement older than this says it is old: doses by weight need a recent one. */
const OLD_MEASURE_DAYS = 7;

/** "Weight 52 kg (20/11/2026)", "Height 160 cm (OLD: 02/01/2026)"; null for each one the source did not send. */
export function bodyWords(p: Patient, ctx: ViewContext, asOf: Date): { weight: string | null; height: string | null } {
  const { t } = ctx;
  const when = (at: string | null | undefined) => {
    if (!at) return '';
    const date = formatDate(at, ctx.timeZone) ?? at;
    const old = asOf.getTime() - Date.parse(at) > OLD_MEASURE_DAYS * 86_400_000;
    return ` (${old ? t('body.old', { date }) : date})`;
  };
  return {
    weight: p.weightKg != null ? `${t('body.weight', { value: p.weightKg })}${when(p.weightAt)}` : null,
    height: p.heightCm != null ? `${t('body.height', { value: p.heightCm })}${when(p.heightAt)}` : null,
  };
}

/** Nothing more to know about this patient's allergies: no allergy, and the source said none of any kind. */
export const trulyNoneKnown = (p: Patient) => p.allergies.status === 'none-known' && knownAbsentKinds(p.allergies) === 'all';

/** Drawn from what documents.ts snapshotFor sends: patients without orders or doses. Reading them here needs a change there. */
export function censusView(snap: WardSnapshot, ctx: ViewContext) {
  const { t } = ctx;
  const asOf = new Date(snap.asOf);
  const sex = (p: Patient) => (p.sex ? t(`sex.${p.sex}`) : '?');
  const { byBed, noBed, conflicts } = bedOccupancy(snap);
  const row = (bed: string, p: Patient | undefined, conflict = false) =>
    p
      ? {
          empty: false,
          bed,
          bedTone: conflict ? 'alert' : 'strong',
          name: [p.name ?? `(${t('unknown')})`, p.deceased ? `† ${t('patient.deceased')}` : null, placementNote(snap, p, ctx, conflicts), p.downtimeAdmission ? t('entry.admission', { number: p.downtimeAdmission.number }) : null].filter(Boolean).join('\n'),
          mrn: or(p.mrn, ctx),
          ageSex: `${ageLabel(p.birthDate, asOf) ?? '?'} / ${sex(p)}`,
          admitted: or(formatDate(p.admittedAt, ctx.timeZone), ctx),
          attending: or(p.attending, ctx),
          diagnosis: or(p.admittingDiagnosis, ctx),
          codeStatus: or(p.codeStatus, ctx),
          codeStatusTone: p.codeStatus && /DNR|DNI|DNAR/i.test(p.codeStatus) ? 'alert' : '',
          flags: [...p.isolation, allergyShort(p, ctx), ...p.flags.map((f) => f.text)].join('\n'),
          flagsTone: !trulyNoneKnown(p) || p.isolation.length > 0 ? 'alert' : '',
        }
      : { empty: true, bed, bedTone: 'strong', name: t('census.empty'), mrn: '', ageSex: '', admitted: '', attending: '', diagnosis: '', codeStatus: '', codeStatusTone: '', flags: '', flagsTone: '' };
  // One row per patient the source places in a bed, two for a bed given twice (marked), one per empty bed.
  const rows = snap.beds.flatMap((b) => {
    const here = byBed.get(b.id) ?? [];
    if (here.length === 0) return [row(b.label, undefined)];
    return here.map((p) => row(markedBedLabel(snap, p, conflicts), p, conflicts.has(b.id)));
  });
  // Patients with no bed on the ward's map still belong on the census: under their own heading.
  const unplaced = noBed.map((p) => row('—', p, true));
  return {
    ward: snap.ward,
    patients: snap.patients.length,
    beds: snap.beds.length,
    rows,
    unplaced,
    conflictBeds: snap.beds.filter((b) => conflicts.has(b.id)).map((b) => b.label).join(', '),
    // What the source could not give, said on the census itself: an entry it could not read is not silently left out.
    partial: snap.warnings.filter((w) => w.code === 'partial-data').map((w) => (w.say ? t(w.say.key, w.say.vars) : w.message)),
    unplacedCount: unplaced.length,
    // Who left the ward on this box's record: listed apart, so a nurse looking for her finds where she went.
    departures: (snap.downtimeEntries?.departures ?? []).map((d) => departureWords(d, t, ctx.timeZone)),
  };
}

/** A patient's downtime record, as paper shows it; only the kinds asked for (the MAR: doses and vital signs). */
function downtimeRecord(p: Patient, ctx: ViewContext, kinds?: readonly string[]) {
  return (p.downtimeEntries ?? []).filter((e) => !kinds || kinds.includes(e.kind)).map((e) => entryWords(e, ctx.t, ctx.timeZone));
}

/** Blank record rows under each PRN order, and blank rows for orders written by hand: a MAR lasts a shift. */
const PRN_RECORD_ROWS = 3;
const HANDWRITTEN_ROWS = 3;

export function marView(snap: WardSnapshot, p: Patient, ctx: ViewContext) {
  const { t, timeZone } = ctx;
  const asOf = new Date(snap.asOf);
  const scheduledOrders = p.orders.items.filter((o) => !o.prn);
  const planned = scheduledOrders.map((o) => ({ o, plan: dueTimes(o, asOf, timeZone, ctx.standardTimes) }));
  // As many boxes as doses: a q4h order gets six, the sheet at least four so hand-added doses have room.
  const slotCount = Math.max(4, ...planned.map(({ plan }) => plan.slots.length));
  const drugCell = (o: (typeof scheduledOrders)[number]) => {
    const cell = orderCell(o, p, t);
    return { label: cell.label, labelTone: cell.alert ? 'alert' : 'strong' };
  };
  return {
    allergy: allergyView(p, ctx),
    ordersAvailable: p.orders.status === 'available',
    adminsAvailable: p.administrations.status === 'available',
    hasOrders: p.orders.items.length > 0,
    from: formatDateTime(snap.asOf, timeZone) ?? snap.asOf,
    to: formatDateTime(new Date(asOf.getTime() + 86_400_000).toISOString(), timeZone) ?? '',
    slotColumns: Array.from({ length: slotCount }, (_, i) => ({ first: i === 0, width: (44 / slotCount).toFixed(2) })),
    scheduled: planned.map(({ o, plan }) => {
      const slots = slotWords(plan, asOf, timeZone, t);
      return {
        ...drugCell(o),
        frequency: frequencyWords(o, plan, t, timeZone) ?? t('unknown'),
        lastGiven: lastGivenWords(o, p, t, timeZone),
        slots: Array.from({ length: slotCount }, (_, i) => slots[i] ?? ''),
      };
    }),
    prn: p.orders.items
      .filter((o) => o.prn)
      .map((o) => ({
        ...drugCell(o),
        frequency: [frequencyWords(o, null, t, timeZone), o.prnReason ? `PRN: ${o.prnReason}` : null].filter(Boolean).join('\n') || t('unknown'),
        lastGiven: lastGivenWords(o, p, t, timeZone),
        // Room to record several doses over a shift, each row naming the drug it belongs to.
        records: Array.from({ length: PRN_RECORD_ROWS }, () => `↳ ${shortDrug(o.drug)}`),
      })),
    // Orders written by hand during the downtime have rows to go in.
    handwrittenRows: Array.from({ length: HANDWRITTEN_ROWS }, (_, i) => i),
    recentOther: dosesWithoutOrder(p, t, timeZone),
    downtime: downtimeRecord(p, ctx, ['administration', 'vitals']),
  };
}

export function summaryView(snap: WardSnapshot, p: Patient, ctx: ViewContext) {
  const { t } = ctx;
  return {
    allergy: allergyView(p, ctx),
    codeStatus: or(p.codeStatus, ctx),
    weight: (() => {
      const b = bodyWords(p, ctx, new Date(snap.asOf));
      return [b.weight, b.height].filter(Boolean).join(' · ') || t('unknown');
    })(),
    admitted: or(formatDateTime(p.admittedAt, ctx.timeZone), ctx),
    attending: or(p.attending, ctx),
    diagnosis: or(p.admittingDiagnosis, ctx),
    flags: [...p.isolation, ...p.flags.map((f) => f.text)].join('; ') || t('summary.none'),
    flagsTone: p.isolation.length ? 'alert' : '',
    diagnosesKnown: p.diagnoses.status === 'available',
    diagnoses: p.diagnoses.items.map((d) => `${d.text}${d.code ? ` (${d.code})` : ''}${d.provisional ? ` [${t('summary.provisional')}]` : ''}`).join('; ') || t('summary.none'),
    ordersAvailable: p.orders.status === 'available',
    orders: p.orders.items.map((o) => {
      const plan = dueTimes(o, new Date(snap.asOf), ctx.timeZone, ctx.standardTimes);
      const due = o.prn ? [] : slotWords(plan, new Date(snap.asOf), ctx.timeZone, t);
      const cell = orderCell(o, p, t);
      return {
        drug: cell.label,
        tone: cell.alert ? 'alert' : '',
        frequency: [frequencyWords(o, plan, t, ctx.timeZone), due.join(' ').replace(/\n/g, ' ')].filter(Boolean).join('\n') || t('unknown'),
        prn: o.prn ? o.prnReason ?? 'PRN' : '',
      };
    }),
    course: (p.clinicalCourse ?? []).map((c) => ({ at: formatDateTime(c.at, ctx.timeZone), text: c.text, by: c.by ? t('summary.courseBy', { who: c.by }) : '' })),
    ...resultsView(p, ctx),
    downtime: downtimeRecord(p, ctx),
  };
}

/**
 * Recent results for the summary: laboratory results grouped by test (the
 * test whose latest result is newest first, each group newest first, the
 * name on its first row), vital signs newest first. A result outside the
 * normal range is marked by the source's own flag, never by our arithmetic.
 */
function resultsView(p: Patient, ctx: ViewContext) {
  const { t } = ctx;
  const at = (iso: string) => formatDateTime(iso, ctx.timeZone) ?? iso;
  const pulled = p.results?.status === 'available';
  const items = p.results?.items ?? [];
  const groups = new Map<string, Result[]>();
  for (const r of items.filter((x) => x.category === 'laboratory')) groups.set(r.name, [...(groups.get(r.name) ?? []), r]);
  const valueWords = (r: Result) => `${r.value}${r.unit ? ` ${r.unit}` : ''}`;
  const preliminary = (r: Result) => (r.preliminary ? ` (${t('results.preliminary')})` : '');
  const row = (r: Result, first: boolean) => ({
    name: first ? r.name : '',
    value: `${valueWords(r)}${preliminary(r)}`,
    range: r.range ?? '',
    flag: r.flag ?? '',
    tone: r.flag ? 'alert' : '',
    at: at(r.at),
  });
  const labs = [...groups.values()].sort((a, b) => Date.parse(b[0]!.at) - Date.parse(a[0]!.at)).flatMap((g) => g.map((r, i) => row(r, i === 0)));
  // Vital signs one row per time taken, the readings side by side: a chart's row, not a list of fifteen.
  const byTime = new Map<string, Result[]>();
  for (const r of items.filter((x) => x.category === 'vital-signs')) byTime.set(r.at, [...(byTime.get(r.at) ?? []), r]);
  const vitals = [...byTime.entries()].map(([when, rs]) => ({
    at: at(when),
    readings: rs.map((r) => `${r.name} ${valueWords(r)}${r.range ? ` (${r.range})` : ''}${r.flag ? ` [${r.flag}]` : ''}${preliminary(r)}`).join(' · '),
    tone: rs.some((r) => r.flag) ? 'alert' : '',
  }));
  return { resultsPulled: pulled, labs, vitals, labHours: LAB_WINDOW_HOURS, vitalHours: VITALS_WINDOW_HOURS };
}

/** "Heparin 5,000 units/mL injection" → "Heparin": the name before the strength. */
export const shortDrug = (drug: string) => drug.split(/\s+\d/)[0]!.trim() || drug;

/** Drawn from what documents.ts snapshotFor sends: patients without doses. */
export function wardAllergiesView(snap: WardSnapshot, ctx: ViewContext) {
  const { t } = ctx;
  const patients = patientsInBedOrder(snap);
  // Allergies: everyone who has one, or whose allergies are unknown — never silently left out.
  const { conflicts } = bedOccupancy(snap);
  const allergyRows = patients
    .filter((p) => !trulyNoneKnown(p))
    .map((p) => ({
      bed: markedBedLabel(snap, p, conflicts),
      patient: [`${p.name ?? t('unknown')} · ${p.mrn ?? t('unknown')}`, placementNote(snap, p, ctx, conflicts)].filter(Boolean).join('\n'),
      allergies: p.allergies.status === 'recorded' ? highRiskFirst(p.allergies.items).map((a) => allergyLine(a, t)).join('; ') : allergyShort(p, ctx),
    }));
  // High-alert drugs grouped by drug, with the beds that have them: one line per drug fits a whole ward.
  const byDrug = new Map<string, string[]>();
  for (const p of patients) {
    for (const d of new Set(p.orders.items.filter((o) => o.highAlert).map((o) => shortDrug(o.drug)))) {
      (byDrug.get(d) ?? byDrug.set(d, []).get(d)!).push(bedLabel(snap, p));
    }
  }
  const unknownOrders = patients.filter((p) => p.orders.status === 'not-pulled').map((p) => bedLabel(snap, p));
  return {
    ward: snap.ward,
    noneKnown: patients.filter(trulyNoneKnown).map((p) => bedLabel(snap, p)).join(', ') || '—',
    allergyRows,
    highAlertRows: [...byDrug.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([drug, beds]) => ({ drug, beds: beds.join(', ') })),
    unknownOrders: unknownOrders.join(', '),
  };
}
