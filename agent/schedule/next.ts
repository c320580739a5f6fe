import cron from 'node-cron';

/**
 * The next time a cron expression fires after `from`, in its time zone.
 * node-cron only reports this for a started task, and `status` runs in its own
 * process, so walk forward a minute at a time (a week at most, or `horizonMinutes`) with its matcher.
 */
export function nextCronTime(expr: string, timeZone: string, from: Date, horizonMinutes = 7 * 24 * 60): Date | null {
  const task = cron.createTask(expr, () => {}, { timezone: timeZone });
  const hasSeconds = expr.trim().split(/\s+/).length === 6;
  const start = new Date(from.getTime());
  start.setUTCSeconds(0, 0);
  for (let i = 1; i <= horizonMinutes; i++) {
    const minute = new Date(start.getTime() + i * 60_000);
    if (!hasSeconds) {
      if (task.match(minute)) return minute;
      continue;
    }
    for (let s = 0; s < 60; s++) {
      const t = new Date(minute.getTime() - 60_000 + s * 1000);
      if (t > from && task.match(t)) return t;
    }
  }
  return null;
}
