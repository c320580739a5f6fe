import { effectiveTiming, localDate, type DuePlan } from '../model/due-times.js';
import { allergyConflicts } from '../model/drug-classes.js';
import type { Administration, MedicationOrder, OrderTiming, Patient } from '../model/ward.js';
import { formatDate, formatDateTime, type Translate } from './i18n.js';

/**
 * An order in the sheet's words: its timing, course, steps and last dose.
 * What Paperback says is worded from templates/i18n; what the prescriber
 * wrote (the order's text, its instructions) is printed as sent.
 */

const unit = (t: Translate, u: string, n: number) => t(n === 1 ? `unit.${u}.one` : `unit.${u}`);

/** "every 4–6 hours", "3 times a week", "before breakfast", "on Mon only": null when the timing says nothing we can word. */
export function timingWords(timing: OrderTiming, t: Translate): string | null {
  const x = effectiveTiming(timing);
  const parts: string[] = [];
  const f = x.frequency;
  const p = x.period;
  const u = x.periodUnit;
  if (f !== null && p !== null && u) {
    const fr = x.frequencyMax !== null ? `${f}–${x.frequencyMax}` : String(f);
    const pr = x.periodMax !== null ? `${p}–${x.periodMax}` : String(p);
    if (f === 1 && x.frequencyMax === null && p === 1 && x.periodMax === null && (u === 'd' || u === 'wk' || u === 'mo')) parts.push(t(`timing.once.${u}`));
    else if (f === 1 && x.frequencyMax === null) parts.push(p === 1 && x.periodMax === null ? t('timing.everyOne', { unit: unit(t, u, 1) }) : t('timing.every', { period: pr, unit: unit(t, u, 2) }));
    else if (p === 1 && x.periodMax === null) parts.push(t('timing.times', { n: fr, unit: unit(t, u, 1) }));
    else parts.push(t('timing.timesEvery', { n: fr, period: pr, unit: unit(t, u, 2) }));
  }
  if (x.when.length > 0) {
    const events = x.when.map((w) => t(`when.${w}`)).join(', ');
    parts.push(x.offsetMinutes ? t('timing.withOffset', { minutes: x.offsetMinutes, event: events }) : events);
  }
  if (x.dayOfWeek.length > 0) parts.push(t('timing.days', { days: x.dayOfWeek.map((d) => t(`day.${d.toLowerCase()}`)).join(', ') }));
  if (x.count === 1) parts.push(t('timing.count1'));
  else if (x.count !== null) parts.push(t('timing.count', { n: x.count }));
  if (x.boundsDuration) parts.push(t('timing.duration', { n: x.boundsDuration.value, unit: unit(t, x.boundsDuration.unit, x.boundsDuration.value) }));
  return parts.length ? parts.join('\n') : null;
}

/** "course 16/01/2015 to 20/01/2015", when the order is bounded. */
export function courseWords(o: MedicationOrder, t: Translate, timeZone: string): string | null {
  const from = o.timing?.boundsStart ? formatDate(o.timing.boundsStart, timeZone) ?? o.timing.boundsStart : null;
  const to = o.timing?.boundsEnd ? formatDate(o.timing.boundsEnd, timeZone) ?? o.timing.boundsEnd : null;
  if (from && to) return t('mar.course', { from, to });
  if (from) return t('mar.courseFrom', { from });
  if (to) return t('mar.courseTo', { to });
  return null;
}

/** The frequency cell: the timing in words (or the source's own text), the course, and whose times the boxes are. */
export function frequencyWords(o: MedicationOrder, plan: DuePlan | null, t: Translate, timeZone: string): string | null {
  const ours = [o.timing ? timingWords(o.timing, t) : null, o.scheduledTimes.length ? t('timing.at', { times: o.scheduledTimes.join(', ') }) : null].filter(Boolean).join('\n') || null;
  // The source's own text stays as sent, beside our wording when it says something else (another language, more detail).
  const theirs = o.frequency && (!ours || !ours.toLowerCase().split('\n').includes(o.frequency.trim().toLowerCase())) ? o.frequency : null;
  return [ours, theirs, courseWords(o, t, timeZone), plan?.source === 'standard' && plan.slots.length > 0 ? t('mar.standardTimes') : null].filter(Boolean).join('\n') || null;
}

/** "⚠ CHECK ALLERGY: Penicillin G (penicillins and other beta-lactams)" when the drug shares a class with a recorded allergy. */
export function allergyCheckWords(o: MedicationOrder, p: Patient, t: Translate): string | null {
  if (p.allergies.status !== 'recorded') return null;
  const found = allergyConflicts(o, p.allergies.items);
  if (found.length === 0) return null;
  const seen = [...new Map(found.map((c) => [`${c.allergy}|${c.drugClass}`, c])).values()];
  return `⚠ ${t('mar.checkAllergy', { allergies: seen.map((c) => `${c.allergy} (${t(`drugClass.${c.drugClass}`)})`).join('; ') })}`;
}

/**
 * An order's drug cell and whether it reads in red (high-alert, do not give,
 * or a drug–allergy check), the allergy check worked out once for both.
 */
export function orderCell(o: MedicationOrder, p: Patient, t: Translate): { label: string; alert: boolean } {
  const check = allergyCheckWords(o, p, t);
  return { label: orderLabel(o, t, check), alert: !!(o.highAlert || o.doNotPerform || check) };
}

/** The drug cell: warnings first, then the drug, the step, dose · route · rate, the limit and the prescriber's words. */
function orderLabel(o: MedicationOrder, t: Translate, allergyCheck: string | null): string {
  const doseLine = [o.dose, o.route, o.rate ? t('mar.rate', { rate: o.rate }) : null].filter(Boolean).join(' · ') || t('unknown');
  return [
    o.doNotPerform ? `⚠ ${t('mar.doNotGive')}` : null,
    allergyCheck,
    o.highAlert ? `⚠ ${t('mar.highAlert')}` : null,
    o.status === 'on-hold' ? `[${t('mar.onHoldNote')}]` : null,
    o.drug,
    o.step ? t('mar.step', { index: o.step.index, of: o.step.of }) : null,
    doseLine,
    o.maxDose ? t('mar.maxDose', { max: o.maxDose }) : null,
    o.instructions,
  ]
    .filter(Boolean)
    .join('\n');
}

/** The due boxes: the time, with its date when it falls on a later day than the sheet starts. */
export function slotWords(plan: DuePlan, from: Date, timeZone: string, t: Translate): string[] {
  if (plan.none) return plan.none === 'prn' ? [] : [t(`mar.none.${plan.none}`)];
  const first = localDate(from, timeZone);
  return plan.slots.map((s) => (s.date === first ? s.time : `${s.time}\n${s.date.slice(8, 10)}/${s.date.slice(5, 7)}`));
}

const doseOf = (o: MedicationOrder) => (x: Administration) => (x.orderId ? x.orderId === o.id : x.drug === o.drug);
const instant = (a: Administration) => Date.parse(a.at);

/**
 * "Last given" for an order: the latest completed dose by instant; an
 * infusion still running says so; a later dose not given says when and why.
 * Retracted records never reach here (the source drops entered-in-error).
 */
export function lastGivenWords(o: MedicationOrder, p: Patient, t: Translate, timeZone: string): string {
  const mine = p.administrations.items.filter(doseOf(o)).sort((a, b) => instant(a) - instant(b));
  const when = (a: Administration) => formatDateTime(a.at, timeZone) ?? a.at;
  const given = mine.filter((a) => a.status === 'completed').at(-1);
  const running = mine.filter((a) => a.status === 'in-progress' && (!given || instant(a) > instant(given))).at(-1);
  const missed = mine.filter((a) => a.status === 'not-done' && (!given || instant(a) > instant(given))).at(-1);
  const lines: string[] = [];
  if (running) lines.push(t('mar.runningSince', { time: when(running) }));
  if (given) lines.push(`${when(given)}${given.by ? `\n${given.by}` : ''}${given.downtime ? ` (${t('entry.lastGivenMark')})` : ''}`);
  if (missed) lines.push(`${t('mar.notGivenAt', { time: when(missed) })}${missed.reason ? `: ${missed.reason}` : ''}${missed.downtime ? ` (${t('entry.lastGivenMark')})` : ''}`);
  if (lines.length) return lines.join('\n');
  return p.administrations.status === 'available' ? t('mar.never') : t('unknown');
}

/** Doses of the last 24 h that belong to no order on the sheet (the order has since completed or stopped). */
export function dosesWithoutOrder(p: Patient, t: Translate, timeZone: string): { drug: string; dose: string; at: string; status: string }[] {
  const orders = p.orders.items;
  return p.administrations.items
    .filter((a) => a.status === 'completed' || a.status === 'in-progress')
    .filter((a) => !orders.some((o) => doseOf(o)(a)))
    .sort((a, b) => instant(b) - instant(a))
    .map((a) => ({ drug: a.drug, dose: a.dose ?? t('unknown'), at: formatDateTime(a.at, timeZone) ?? a.at, status: a.status === 'in-progress' ? t('mar.runningSince', { time: '' }).trim() : t('mar.given') }));
}
