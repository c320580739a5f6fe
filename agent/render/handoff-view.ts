import { dueTimes } from '../model/due-times.js';
import type { Patient, WardSnapshot } from '../model/ward.js';
import { ageLabel, bedOccupancy } from '../model/helpers.js';
import { orderCell } from './order-words.js';
import { allergyShort, markedBedLabel, shortDrug, trulyNoneKnown, type ViewContext } from './views.js';

/** How far ahead the handoff lists doses: a long shift (12 h) from the data's time. */
const AHEAD_HOURS = 12;

/**
 * The shift handoff sheet (a Kardex): per patient in bed order, what the next
 * nurse must know at a glance (code status, allergies, isolation, the doses
 * due in the next 12 hours) and room to write what the HIS does not hold
 * (diet, lines and drains, what is still to do). Patients with no bed follow,
 * marked, so nobody is left off the handoff.
 */
export function handoffView(snap: WardSnapshot, ctx: ViewContext) {
  const { t } = ctx;
  const asOf = new Date(snap.asOf);
  const until = asOf.getTime() + AHEAD_HOURS * 3_600_000;
  const { byBed, noBed, conflicts } = bedOccupancy(snap);
  /** "20:00 ⚠ Enoxaparin, Lactulose": each time once, drugs by name only (doses and routes are on the MAR). */
  const dueWords = (p: Patient): { text: string; tone: string } => {
    if (p.orders.status !== 'available') return { text: t('mar.ordersUnavailable'), tone: 'alert' };
    const byTime = new Map<number, { time: string; drugs: string[] }>();
    const other: string[] = [];
    const prn: string[] = [];
    for (const o of p.orders.items) {
      if (o.status !== 'active') continue;
      // Marked when it is high-alert or clashes with an allergy.
      const name = `${orderCell(o, p, t).alert ? '⚠ ' : ''}${shortDrug(o.drug)}`;
      if (o.prn) {
        prn.push(name);
        continue;
      }
      const plan = dueTimes(o, asOf, ctx.timeZone, ctx.standardTimes);
      if (plan.none && plan.none !== 'prn') other.push(`${name}: ${t(`mar.none.${plan.none}`)}`);
      for (const s of plan.slots.filter((x) => x.at.getTime() < until)) {
        const slot = byTime.get(s.at.getTime()) ?? { time: s.time, drugs: [] };
        slot.drugs.push(name);
        byTime.set(s.at.getTime(), slot);
      }
    }
    const lines = [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => `${s.time} ${s.drugs.join(', ')}`);
    const text = [...lines, ...other, ...(prn.length ? [`${t('handoff.prn')}: ${prn.join(', ')}`] : [])].join('\n');
    return { text: text || t('handoff.nothingDue'), tone: '' };
  };
  const row = (bed: string, p: Patient, alertBed: boolean) => {
    const due = dueWords(p);
    return {
      bed,
      bedTone: alertBed ? 'alert' : 'strong',
      patient: [p.name ?? `(${t('unknown')})`, `${ageLabel(p.birthDate, asOf) ?? '?'} / ${p.sex ? t(`sex.${p.sex}`) : '?'}`, `${t('census.mrn')} ${p.mrn ?? t('unknown')}`].join('\n'),
      diagnosis: p.admittingDiagnosis ?? p.diagnoses.items[0]?.text ?? t('unknown'),
      codeStatus: p.codeStatus ?? t('unknown'),
      codeStatusTone: !p.codeStatus || /DNR|DNI|DNAR/i.test(p.codeStatus) ? 'alert' : 'strong',
      safety: [allergyShort(p, ctx), ...p.isolation.map((i) => `⚠ ${i}`), ...p.flags.map((f) => f.text)].join('\n'),
      safetyTone: !trulyNoneKnown(p) || p.isolation.length > 0 || p.flags.length > 0 ? 'alert' : '',
      due: due.text,
      dueTone: due.tone,
    };
  };
  const rows = snap.beds.flatMap((b) => (byBed.get(b.id) ?? []).map((p) => row(markedBedLabel(snap, p, conflicts), p, conflicts.has(b.id))));
  // No bed on the ward's map: a dash for the bed, and the patient cell says why.
  for (const p of noBed) rows.push({ ...row('—', p, true), patient: `⚠ ${t('census.noBed')}\n${row('—', p, true).patient}` });
  return { ward: snap.ward, aheadHours: AHEAD_HOURS, rows, patients: rows.length };
}
