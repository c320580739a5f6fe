import type { MedicationOrder, OrderTiming } from './ward.js';

/**
 * When each dose of an order falls due in a MAR's 24-hour window: pure, no I/O.
 *
 * An order's own clock times win. An order that gives only a frequency
 * ("4 times a day", BID, q8h) or an event ("before breakfast") gets the
 * site's standard administration times, and the sheet says they are standard
 * times. Anything else (every other day, 3 times a week with no days, a dose
 * more often than the table knows) gets no pre-printed times: the sheet then
 * says to check the order, rather than guessing a schedule.
 */

/** Site table: "N/d" and "qNh" frequencies, and FHIR event codes (ACM, HS …), to local "HH:MM" times. */
export type StandardTimes = Record<string, string[]>;

/** A ward's usual rounds; a site replaces them in templates/settings.yaml (standardTimes). */
export const DEFAULT_STANDARD_TIMES: StandardTimes = {
  '1/d': ['08:00'],
  '2/d': ['08:00', '20:00'],
  '3/d': ['08:00', '14:00', '20:00'],
  '4/d': ['06:00', '12:00', '18:00', '22:00'],
  '6/d': ['02:00', '06:00', '10:00', '14:00', '18:00', '22:00'],
  q4h: ['02:00', '06:00', '10:00', '14:00', '18:00', '22:00'],
  q6h: ['00:00', '06:00', '12:00', '18:00'],
  q8h: ['06:00', '14:00', '22:00'],
  q12h: ['08:00', '20:00'],
  q24h: ['08:00'],
  // Meals and the day's parts (FHIR EventTiming).
  ACM: ['06:30'], CM: ['07:00'], PCM: ['07:30'],
  ACD: ['11:00'], CD: ['11:30'], PCD: ['12:00'],
  ACV: ['17:00'], CV: ['17:30'], PCV: ['18:00'],
  AC: ['06:30', '11:00', '17:00'], C: ['07:00', '11:30', '17:30'], PC: ['07:30', '12:00', '18:00'],
  WAKE: ['06:00'], MORN: ['08:00'], 'MORN.early': ['06:00'], 'MORN.late': ['10:00'], NOON: ['12:00'],
  AFT: ['14:00'], 'AFT.early': ['13:00'], 'AFT.late': ['16:00'],
  EVE: ['18:00'], 'EVE.early': ['17:00'], 'EVE.late': ['20:00'],
  NIGHT: ['22:00'], HS: ['21:00'], PHS: ['22:00'],
};

/** Common timing abbreviations (HL7 v3 GTSAbbreviation and ward usage) as what they mean. */
const CODE_MEANS: Record<string, Partial<OrderTiming>> = {
  QD: { frequency: 1, period: 1, periodUnit: 'd' },
  OD: { frequency: 1, period: 1, periodUnit: 'd' },
  BID: { frequency: 2, period: 1, periodUnit: 'd' },
  TID: { frequency: 3, period: 1, periodUnit: 'd' },
  QID: { frequency: 4, period: 1, periodUnit: 'd' },
  Q4H: { frequency: 1, period: 4, periodUnit: 'h' },
  Q6H: { frequency: 1, period: 6, periodUnit: 'h' },
  Q8H: { frequency: 1, period: 8, periodUnit: 'h' },
  Q12H: { frequency: 1, period: 12, periodUnit: 'h' },
  QOD: { frequency: 1, period: 2, periodUnit: 'd' },
  QWK: { frequency: 1, period: 1, periodUnit: 'wk' },
  AM: { frequency: 1, period: 1, periodUnit: 'd', when: ['MORN'] },
  PM: { frequency: 1, period: 1, periodUnit: 'd', when: ['EVE'] },
  HS: { frequency: 1, period: 1, periodUnit: 'd', when: ['HS'] },
};

/** The timing with its abbreviation spelled out where the structured fields are silent. */
export function effectiveTiming(t: OrderTiming): OrderTiming {
  const means = t.code ? CODE_MEANS[t.code.toUpperCase()] : undefined;
  if (!means || t.frequency !== null || t.period !== null || t.when.length > 0) return t;
  return { ...t, ...means, when: means.when ?? t.when };
}

export type NoDueReason =
  | 'do-not-perform'
  | 'on-hold'
  | 'prn'
  | 'ended'
  | 'not-started'
  /** Not every day, and the order does not say which days. */
  | 'check-days'
  /** The order's timing is not one the site table covers, or it has no timing. */
  | 'no-times'
  /** More often than a MAR row can hold (e.g. every 15 minutes, continuous): a flow sheet's job. */
  | 'too-frequent'
  /** One dose, with no time given. */
  | 'single-dose'
  /** Given on certain days only, none of them in this window. */
  | 'not-this-window';

export interface DueSlot {
  /** The instant the dose is due. */
  at: Date;
  /** Local clock time "HH:MM". */
  time: string;
  /** Local date "YYYY-MM-DD". */
  date: string;
}

export interface DuePlan {
  /** Where the times came from: the order itself, or the site's standard times. */
  source: 'order' | 'standard' | null;
  slots: DueSlot[];
  /** Why no slot is printed, when none is. */
  none: NoDueReason | null;
}

const MAX_SLOTS = 12;
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/**
 * Words in the prescriber's text that tie a dose to a time of day ("before
 * lunch", "at 9 am", "tối"). A frequency-only timing beside such text gets no
 * standard times: 08:00 printed next to "15 units before lunch" is a wrong
 * sheet, and a wrong sheet is worse than a box to fill in.
 */
const TIME_CUE = /\b(breakfast|lunch|dinner|supper|meals?|bed ?time|morning|noon|midday|afternoon|evening|night|nocte|mane|a\.?m\.?|p\.?m\.?|\d{1,2}(:\d{2})?\s*(h|am|pm|giờ))\b|sáng|trưa|chiều|tối|đêm|bữa|đi ngủ/i;

/** The order's clock times, and where they came from, before the window and the course are applied. */
function clockTimes(o: MedicationOrder, table: StandardTimes): { times: string[]; source: 'order' | 'standard' } | NoDueReason {
  if (o.scheduledTimes.length > 0) return { times: o.scheduledTimes, source: 'order' };
  if (!o.timing) return 'no-times';
  const t = effectiveTiming(o.timing);
  if (t.when.length === 0 && o.instructions && TIME_CUE.test(o.instructions)) return 'no-times';
  if (t.when.length > 0) {
    const times: string[] = [];
    for (const w of t.when) {
      const known = table[w];
      if (!known) return 'no-times';
      times.push(...known);
    }
    return { times, source: 'standard' };
  }
  if (t.frequency === null || t.period === null || t.periodUnit === null) return t.count === 1 ? 'single-dose' : 'no-times';
  if (t.frequencyMax !== null || t.periodMax !== null) return 'no-times'; // "every 4–6 hours": the nurse judges it
  if (t.periodUnit === 's' || t.periodUnit === 'min') return 'too-frequent';
  if (t.periodUnit === 'h') {
    if (t.frequency !== 1) return 'no-times';
    if (t.period < 2) return 'too-frequent';
    const times = table[`q${t.period}h`];
    return times ? { times, source: 'standard' } : 'no-times';
  }
  if (t.periodUnit === 'd' && t.period === 1) {
    const times = table[`${t.frequency}/d`];
    return times ? { times, source: 'standard' } : t.frequency > MAX_SLOTS ? 'too-frequent' : 'no-times';
  }
  // Weekly, monthly, every other day: which day is due is the order's to say (dayOfWeek), not ours.
  if (t.dayOfWeek.length > 0 && t.periodUnit === 'wk' && t.period === 1 && t.frequency === t.dayOfWeek.length) {
    const times = table['1/d'];
    return times ? { times, source: 'standard' } : 'no-times';
  }
  return 'check-days';
}

/** The UTC offset of a zone at an instant, in minutes. */
function offsetMinutes(at: number, timeZone: string): number {
  const parts = zoneFormat(timeZone).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(at / 1000) * 1000) / 60_000);
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();
function zoneFormat(timeZone: string): Intl.DateTimeFormat {
  let f = zoneFormats.get(timeZone);
  if (!f) zoneFormats.set(timeZone, (f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })));
  return f;
}

/** The local date "YYYY-MM-DD" of an instant in a zone. */
export function localDate(at: Date, timeZone: string): string {
  const parts = zoneFormat(timeZone).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** The instant a local date and clock time name in a zone (DST-safe for ordinary rounds). */
function instantOf(date: string, time: string, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  const guess = Date.UTC(y, m - 1, d, hh, mm);
  const first = guess - offsetMinutes(guess, timeZone) * 60_000;
  return new Date(guess - offsetMinutes(first, timeZone) * 60_000);
}

function addDays(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** A course bound as an instant: a date alone starts at its first minute, or ends after its last. */
function boundInstant(value: string, edge: 'start' | 'end', timeZone: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return instantOf(edge === 'start' ? value : addDays(value, 1), '00:00', timeZone).getTime() - (edge === 'end' ? 1 : 0);
  if (/^\d{4}(-\d{2})?$/.test(value)) return edge === 'start' ? -Infinity : Infinity; // too coarse to bound a day
  const t = Date.parse(value);
  return Number.isNaN(t) ? (edge === 'start' ? -Infinity : Infinity) : t;
}

/** The doses of an order due in [from, from + 24 h), in time order. */
export function dueTimes(o: MedicationOrder, from: Date, timeZone: string, table: StandardTimes = DEFAULT_STANDARD_TIMES): DuePlan {
  const none = (reason: NoDueReason): DuePlan => ({ source: null, slots: [], none: reason });
  if (o.doNotPerform) return none('do-not-perform');
  if (o.status === 'on-hold') return none('on-hold');
  if (o.prn) return none('prn');
  const start = o.timing?.boundsStart ?? null;
  const end = o.timing?.boundsEnd ?? null;
  const to = from.getTime() + 86_400_000;
  const endAt = end ? boundInstant(end, 'end', timeZone) : Infinity;
  const startAt = start ? boundInstant(start, 'start', timeZone) : -Infinity;
  if (endAt < from.getTime()) return none('ended');
  if (startAt >= to) return none('not-started');
  const clock = clockTimes(o, table);
  if (typeof clock === 'string') return none(clock);
  const days = new Set((o.timing?.dayOfWeek ?? []).map((d) => d.toLowerCase()));
  const today = localDate(from, timeZone);
  const slots: DueSlot[] = [];
  const seen = new Set<number>();
  for (const date of [addDays(today, -1), today, addDays(today, 1)]) {
    for (const raw of clock.times) {
      const time = raw === '24:00' ? '00:00' : raw.slice(0, 5);
      const day = raw === '24:00' ? addDays(date, 1) : date;
      const at = instantOf(day, time, timeZone);
      const ms = at.getTime();
      if (ms < from.getTime() || ms >= to || ms < startAt || ms > endAt || seen.has(ms)) continue;
      if (days.size > 0 && !days.has(DAYS[new Date(`${day}T12:00:00Z`).getUTCDay()]!)) continue;
      seen.add(ms);
      slots.push({ at, time, date: day });
    }
  }
  slots.sort((a, b) => a.at.getTime() - b.at.getTime());
  // A single-dose order is one box, whatever its timing repeats.
  if (o.timing?.count === 1) slots.splice(1);
  if (slots.length > MAX_SLOTS) return none('too-frequent');
  if (slots.length === 0 && days.size > 0) return { source: clock.source, slots, none: 'not-this-window' };
  return { source: clock.source, slots, none: slots.length === 0 ? 'no-times' : null };
}
