import type { MedicationOrder, Patient, WardSnapshot } from '../model/ward.js';
import { ageInYears, patientById, patientsInBedOrder } from '../model/helpers.js';
import { formatDate, formatDateTime, formatTime, type Translate } from './i18n.js';

/**
 * View models: what each template in templates/documents sees. Every value is
 * already a display string in the document's language and time zone; unknown
 * values are spelled out ("unknown"), never left blank. Tones are '' or one of
 * alert, strong, muted.
 */

export interface ViewContext {
  t: Translate;
  timeZone: string;
}

const or = (v: string | null | undefined, ctx: ViewContext) => (v && v.trim() ? v : ctx.t('unknown'));
const bedLabel = (snap: WardSnapshot, p: Patient) => snap.beds.find((b) => b.id === p.bedId)?.label ?? '—';

export function allergyView(p: Patient, ctx: ViewContext): { title: string; tone: 'alert' | 'normal'; lines: string[] } {
  const { t } = ctx;
  switch (p.allergies.status) {
    case 'recorded':
      return { title: `⚠ ${t('allergy.title')}`, tone: 'alert', lines: p.allergies.items.map((a) => [a.substance, a.reaction, a.criticality === 'high' ? 'HIGH RISK' : null].filter(Boolean).join(' — ')) };
    case 'none-known':
      return { title: t('allergy.title'), tone: 'normal', lines: [t('allergy.noneKnown')] };
    case 'not-recorded':
      return { title: `⚠ ${t('allergy.title')}`, tone: 'alert', lines: [t('allergy.notRecorded')] };
    case 'not-pulled':
      return { title: `⚠ ${t('allergy.title')}`, tone: 'alert', lines: [t('allergy.notPulled')] };
  }
}

function allergyShort(p: Patient, ctx: ViewContext): string {
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

/** Drawn from what documents.ts snapshotFor sends: patients without orders or doses. Reading them here needs a change there. */
export function censusView(snap: WardSnapshot, ctx: ViewContext) {
  const { t } = ctx;
  const byId = patientById(snap);
  const asOf = new Date(snap.asOf);
  const sex = (p: Patient) => (p.sex ? t(`sex.${p.sex}`) : '?');
  const row = (bed: string, p: Patient | undefined) =>
    p
      ? {
          empty: false,
          bed,
          name: p.name ?? `(${t('unknown')})`,
          mrn: or(p.mrn, ctx),
          ageSex: `${ageInYears(p.birthDate, asOf) ?? '?'} / ${sex(p)}`,
          admitted: or(formatDate(p.admittedAt, ctx.timeZone), ctx),
          attending: or(p.attending, ctx),
          diagnosis: or(p.admittingDiagnosis, ctx),
          codeStatus: or(p.codeStatus, ctx),
          codeStatusTone: p.codeStatus && /DNR|DNI|DNAR/i.test(p.codeStatus) ? 'alert' : '',
          flags: [...p.isolation, allergyShort(p, ctx), ...p.flags.map((f) => f.text)].join('\n'),
          flagsTone: p.allergies.status !== 'none-known' || p.isolation.length > 0 ? 'alert' : '',
        }
      : { empty: true, bed, name: t('census.empty'), mrn: '', ageSex: '', admitted: '', attending: '', diagnosis: '', codeStatus: '', codeStatusTone: '', flags: '', flagsTone: '' };
  const rows = snap.beds.map((b) => row(b.label, b.patientId ? byId.get(b.patientId) : undefined));
  // Patients with no bed on the ward's map still belong on the census.
  for (const p of snap.patients) if (!p.bedId || !snap.beds.some((b) => b.id === p.bedId)) rows.push(row('—', p));
  return { ward: snap.ward, patients: snap.patients.length, beds: snap.beds.length, rows };
}

/** The next 24 h of due times from the snapshot time, rotated so the next due dose comes first. */
function dueSlots(times: string[], from: Date, tz: string): string[] {
  const start = formatTime(from.toISOString(), tz);
  const sorted = [...times].map((x) => (x === '24:00' ? '00:00' : x)).sort();
  const idx = sorted.findIndex((x) => x >= start);
  return idx <= 0 ? sorted : [...sorted.slice(idx), ...sorted.slice(0, idx)];
}

export function marView(snap: WardSnapshot, p: Patient, ctx: ViewContext) {
  const { t } = ctx;
  const asOf = new Date(snap.asOf);
  const lastGiven = (o: MedicationOrder) => {
    const a = [...p.administrations.items].reverse().find((x) => (x.orderId ? x.orderId === o.id : x.drug === o.drug));
    if (!a) return p.administrations.status === 'available' ? t('mar.never') : t('unknown');
    const when = formatDateTime(a.at, ctx.timeZone) ?? a.at;
    return a.status === 'completed' ? `${when}${a.by ? `\n${a.by}` : ''}` : `${when} — ${t('mar.notDone')}`;
  };
  const label = (o: MedicationOrder) =>
    [o.highAlert ? `⚠ ${t('mar.highAlert')}` : null, o.status === 'on-hold' ? `[${t('mar.onHold')}]` : null, o.drug, [o.dose, o.route].filter(Boolean).join(' · ') || t('unknown'), o.instructions].filter(Boolean).join('\n');
  const scheduledOrders = p.orders.items.filter((o) => !o.prn);
  const slotCount = Math.max(4, ...scheduledOrders.map((o) => o.scheduledTimes.length));
  return {
    allergy: allergyView(p, ctx),
    ordersAvailable: p.orders.status === 'available',
    adminsAvailable: p.administrations.status === 'available',
    hasOrders: p.orders.items.length > 0,
    from: formatDateTime(snap.asOf, ctx.timeZone) ?? snap.asOf,
    to: formatDateTime(new Date(asOf.getTime() + 86_400_000).toISOString(), ctx.timeZone) ?? '',
    slotColumns: Array.from({ length: slotCount }, (_, i) => ({ first: i === 0, width: (44 / slotCount).toFixed(2) })),
    scheduled: scheduledOrders.map((o) => {
      const slots = dueSlots(o.scheduledTimes, asOf, ctx.timeZone);
      return {
        label: label(o),
        labelTone: o.highAlert ? 'alert' : 'strong',
        frequency: or(o.frequency, ctx),
        lastGiven: lastGiven(o),
        slots: Array.from({ length: slotCount }, (_, i) => slots[i] ?? (i === 0 && slots.length === 0 ? t('unknown') : '')),
      };
    }),
    prn: p.orders.items
      .filter((o) => o.prn)
      .map((o) => ({ label: label(o), labelTone: o.highAlert ? 'alert' : 'strong', frequency: [o.frequency, o.prnReason ? `PRN: ${o.prnReason}` : null].filter(Boolean).join('\n') || t('unknown'), lastGiven: lastGiven(o) })),
  };
}

export function summaryView(snap: WardSnapshot, p: Patient, ctx: ViewContext) {
  const { t } = ctx;
  return {
    allergy: allergyView(p, ctx),
    codeStatus: or(p.codeStatus, ctx),
    weight: p.weightKg !== null ? `${p.weightKg} kg` : t('unknown'),
    admitted: or(formatDateTime(p.admittedAt, ctx.timeZone), ctx),
    attending: or(p.attending, ctx),
    diagnosis: or(p.admittingDiagnosis, ctx),
    flags: [...p.isolation, ...p.flags.map((f) => f.text)].join('; ') || t('summary.none'),
    flagsTone: p.isolation.length ? 'alert' : '',
    diagnosesKnown: p.diagnoses.status === 'available',
    diagnoses: p.diagnoses.items.map((d) => `${d.text}${d.code ? ` (${d.code})` : ''}`).join('; ') || t('summary.none'),
    ordersAvailable: p.orders.status === 'available',
    orders: p.orders.items.map((o) => ({
      drug: `${o.highAlert ? `⚠ ${t('mar.highAlert')} ` : ''}${o.drug}\n${[o.dose, o.route].filter(Boolean).join(' · ')}`,
      tone: o.highAlert ? 'alert' : '',
      frequency: [o.frequency, o.scheduledTimes.join(' ')].filter(Boolean).join('\n') || t('unknown'),
      prn: o.prn ? o.prnReason ?? 'PRN' : '',
    })),
  };
}

/** "Heparin 5,000 units/mL injection" → "Heparin": the name before the strength. */
export const shortDrug = (drug: string) => drug.split(/\s+\d/)[0]!.trim() || drug;

/** Drawn from what documents.ts snapshotFor sends: patients without doses. */
export function wardAllergiesView(snap: WardSnapshot, ctx: ViewContext) {
  const { t } = ctx;
  const patients = patientsInBedOrder(snap);
  // Allergies: everyone who has one, or whose allergies are unknown — never silently left out.
  const allergyRows = patients
    .filter((p) => p.allergies.status !== 'none-known')
    .map((p) => ({
      bed: bedLabel(snap, p),
      patient: `${p.name ?? t('unknown')} · ${p.mrn ?? t('unknown')}`,
      allergies: p.allergies.status === 'recorded' ? p.allergies.items.map((a) => `${a.substance}${a.reaction ? ` (${a.reaction})` : ''}`).join('; ') : allergyShort(p, ctx),
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
    noneKnown: patients.filter((p) => p.allergies.status === 'none-known').map((p) => bedLabel(snap, p)).join(', ') || '—',
    allergyRows,
    highAlertRows: [...byDrug.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([drug, beds]) => ({ drug, beds: beds.join(', ') })),
    unknownOrders: unknownOrders.join(', '),
  };
}
