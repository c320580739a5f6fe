/**
 * HL7 v2 DTM (date/time), read strictly: YYYY[MM[DD[HH[MM[SS[.S{1,4}]]]]]][+/-ZZZZ].
 * An impossible value (month 13, day 32, hour 25, 30 February) is an error,
 * never rolled over into the next month the way Date.UTC would. A value with
 * no offset is a wall-clock time in the box's time zone (IANA name), read
 * with that zone's rules on that date (summer time included).
 */
import { wallToUtc, zoneOffsetMinutes } from '../../model/wall-clock.js';

export interface DtmError {
  problem: string;
}

const DTM = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?([+-]\d{4})?$/;

const daysIn = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();

/** ISO instant (UTC) for a DTM, or the problem with it. Empty input is null (absent). */
export function parseDtm(value: string, timeZone: string): string | null | DtmError {
  if (value === '') return null;
  const m = DTM.exec(value);
  if (!m) return { problem: 'not an HL7 date/time (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ])' };
  const [, ys, mos, ds, hs, mis, ss, frac, off] = m;
  const y = Number(ys);
  const mo = mos ? Number(mos) : 1;
  const d = ds ? Number(ds) : 1;
  const h = hs ? Number(hs) : 0;
  const mi = mis ? Number(mis) : 0;
  const s = ss ? Number(ss) : 0;
  if (mo < 1 || mo > 12) return { problem: `month ${mos} does not exist` };
  if (d < 1 || d > daysIn(y, mo)) return { problem: `day ${ds} does not exist in ${ys}-${String(mo).padStart(2, '0')}` };
  if (h > 23) return { problem: `hour ${hs} does not exist` };
  if (mi > 59) return { problem: `minute ${mis} does not exist` };
  if (s > 59) return { problem: `second ${ss} does not exist` };
  const ms = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
  const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (off) {
    const oh = Number(off.slice(1, 3));
    const om = Number(off.slice(3, 5));
    if (oh > 14 || om > 59) return { problem: `offset ${off} does not exist` };
    return new Date(wall - (off[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000).toISOString();
  }
  return new Date(wallToUtc(wall, timeZone)).toISOString();
}

export const isDtmError = (v: unknown): v is DtmError => typeof v === 'object' && v !== null && 'problem' in v;

/** A DT (date only, PID-7 birth date): YYYY, YYYY-MM or YYYY-MM-DD as sent, checked the same way. */
export function parseDate(value: string): string | null | DtmError {
  if (value === '') return null;
  // A birth date sent with a time (DTM in PID-7) keeps only its date part.
  const m = /^(\d{4})(\d{2})?(\d{2})?(?:\d{2}(?:\d{2}(?:\d{2}(?:\.\d{1,4})?)?)?)?(?:[+-]\d{4})?$/.exec(value);
  if (!m) return { problem: 'not an HL7 date (YYYY[MM[DD]])' };
  const [, ys, mos, ds] = m;
  if (mos && (Number(mos) < 1 || Number(mos) > 12)) return { problem: `month ${mos} does not exist` };
  if (ds && (Number(ds) < 1 || Number(ds) > daysIn(Number(ys), Number(mos)))) return { problem: `day ${ds} does not exist in ${ys}-${mos}` };
  return [ys, mos, ds].filter(Boolean).join('-');
}

/** Now as a DTM with its offset in the box's zone, for ACK MSH-7: "20261204223000+0700". */
export function formatDtm(at: Date, timeZone: string): string {
  const off = zoneOffsetMinutes(timeZone, at);
  const local = new Date(at.getTime() + off * 60_000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const a = Math.abs(off);
  return `${local}${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}${String(a % 60).padStart(2, '0')}`;
}
