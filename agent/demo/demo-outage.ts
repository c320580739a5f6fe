import type { Logger } from 'pino';
import type { Db } from '../store/db.js';
import { readSetting, writeSetting } from '../store/settings.js';
import type { DemoHis } from './demo-his.js';
import { errorFields } from '../log/errors.js';

/**
 * Taking the demo HIS down and up, so a newcomer sees a real outage: the
 * FHIR server's port really closes. The wish is a row in the store, so the
 * CLI (`paperback demo outage start|stop`, another process) and the IT page
 * say it the same way; the serving process applies it.
 */
const NAME = 'demo-his-down';

export function requestDemoOutage(db: Db, down: boolean, now = new Date()): void {
  writeSetting(db, NAME, down ? 'down' : 'up', now);
}

export function demoOutageRequested(db: Db): boolean {
  return readSetting(db, NAME) === 'down';
}

/** Apply the wish to every demo HIS in this process; returns a stop function. */
export function followDemoOutage(db: Db, his: Iterable<DemoHis>, log: Logger, everyMs = 1000): () => void {
  const list = [...his];
  let busy = false;
  const apply = async () => {
    if (busy || list.length === 0) return;
    busy = true;
    try {
      const down = demoOutageRequested(db);
      for (const h of list) {
        if (down && h.server.isUp()) {
          await h.server.down();
          log.warn({ source: h.fhir.id }, 'demo HIS taken down on request (demo outage)');
        } else if (!down && !h.server.isUp()) {
          await h.server.up();
          log.info({ source: h.fhir.id, url: h.server.url }, 'demo HIS back up');
        }
      }
    } finally {
      busy = false;
    }
  };
  void apply();
  const timer = setInterval(() => void apply().catch((err: unknown) => log.error({ err: errorFields(err) }, 'demo outage toggle failed')), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
