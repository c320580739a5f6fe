import cron from 'node-cron';
import type { PlannedWindow } from '../config/schema.js';
import { nextCronTime } from '../schedule/next.js';

export interface WindowOccurrence {
  id: string;
  title: string;
  start: Date;
  end: Date;
}

/** The occurrence of a planned window that covers `at`, if any. */
export function activeOccurrence(w: PlannedWindow, timeZone: string, at: Date): WindowOccurrence | null {
  const title = w.title ?? w.id;
  if ('start' in w) {
    const start = new Date(w.start);
    const end = new Date(w.end);
    return start <= at && at < end ? { id: w.id, title, start, end } : null;
  }
  const task = cron.createTask(w.cron, () => {}, { timezone: timeZone });
  const minute = new Date(at.getTime());
  minute.setUTCSeconds(0, 0);
  // Walk back over the window's length for the start that covers `at`.
  for (let m = 0; m < w.durationMinutes; m++) {
    const s = new Date(minute.getTime() - m * 60_000);
    if (task.match(s)) return { id: w.id, title, start: s, end: new Date(s.getTime() + w.durationMinutes * 60_000) };
  }
  return null;
}

/** The next occurrence starting after `at` (within a week for recurring windows). */
export function nextOccurrence(w: PlannedWindow, timeZone: string, at: Date): WindowOccurrence | null {
  const title = w.title ?? w.id;
  if ('start' in w) {
    const start = new Date(w.start);
    return start > at ? { id: w.id, title, start, end: new Date(w.end) } : null;
  }
  const start = nextCronTime(w.cron, timeZone, at);
  return start ? { id: w.id, title, start, end: new Date(start.getTime() + w.durationMinutes * 60_000) } : null;
}
