/**
 * Wall-clock times in a named zone: what a HIS writes without an offset, and
 * what a nurse types on the ward page, are the box's local time.
 */

/** One formatter per zone: building an Intl.DateTimeFormat costs far more than using one, and every time read calls this twice. */
const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** Offset of a zone at an instant, in minutes east of UTC. */
export function zoneOffsetMinutes(timeZone: string, at: Date): number {
  let f = offsetFormats.get(timeZone);
  if (!f) offsetFormats.set(timeZone, (f = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })));
  const name = f.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/** The instant a wall-clock time in a zone names (the earlier one when clocks go back). */
export function wallToUtc(wallMs: number, timeZone: string): number {
  let t = wallMs - zoneOffsetMinutes(timeZone, new Date(wallMs)) * 60_000;
  t = wallMs - zoneOffsetMinutes(timeZone, new Date(t)) * 60_000;
  return t;
}

/** "2026-12-05T08:05" typed in `timeZone` as an ISO instant, or null when it is not such a time. */
export function localInputToIso(value: string, timeZone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value.trim());
  if (!m) return null;
  const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!);
  if (new Date(wall).toISOString().slice(0, 16) !== value.trim()) return null; // 31 February
  return new Date(wallToUtc(wall, timeZone)).toISOString();
}

/** An instant as the box's wall clock, for a datetime-local field: "2026-12-05T08:05". */
export function isoToLocalInput(at: Date, timeZone: string): string {
  return new Date(at.getTime() + zoneOffsetMinutes(timeZone, at) * 60_000).toISOString().slice(0, 16);
}
