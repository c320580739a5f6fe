import type { Logger } from 'pino';
import { isDiskFull } from '../store/disk-space.js';
import type { Db } from '../store/db.js';
import { appendAudit, type AuditEntry } from './log.js';
import { errorFields } from '../log/errors.js';

/**
 * Audit rows for the web, kept even when the disk is full: a row that cannot
 * be written is held in memory, in order and with its own time, and written
 * before the next one once there is room. Past `max` held rows the oldest
 * kept are kept and later ones are counted, and an `audit-gap` row says how
 * many were lost and when. Reading the ward page never fails for want of an
 * audit row; the chain stays whole.
 */
export interface HeldAudit {
  append(e: AuditEntry, at: Date): void;
  /** Write what is held, if the disk lets us. */
  flush(): void;
  /** With rows held, try to write them at most once a second (per request, as room may have come back); failures are logged. */
  retry(): void;
  held(): number;
}

export function heldAudit(db: Db, o: { log: Logger; max?: number; beforeWrite?: () => void; onFull?: () => void }): HeldAudit {
  const max = o.max ?? 10_000;
  const queue: { e: AuditEntry; at: Date }[] = [];
  let lost = 0;
  let lostFrom: Date | null = null;
  let lostTo: Date | null = null;
  let warned = false;

  const flush = () => {
    while (queue.length) {
      const next = queue[0]!;
      try {
        appendAudit(db, next.e, next.at);
      } catch (err) {
        if (isDiskFull(err)) return;
        throw err;
      }
      queue.shift();
    }
    if (lost > 0) {
      try {
        appendAudit(db, { actor: 'paperback', action: 'audit-gap', subject: null, detail: { lost, from: lostFrom!.toISOString(), to: lostTo!.toISOString(), why: 'data disk full' } }, lostTo!);
        lost = 0;
      } catch (err) {
        if (!isDiskFull(err)) throw err;
        return;
      }
    }
    if (warned) o.log.info({ room: 'audit' }, 'audit rows held while the disk was full are written');
    warned = false;
  };

  let retriedAt = 0;
  return {
    held: () => queue.length + lost,
    flush,
    retry() {
      if (queue.length + lost === 0 || Date.now() - retriedAt < 1000) return;
      retriedAt = Date.now();
      try {
        flush();
      } catch (err) {
        o.log.error({ room: 'audit', err: errorFields(err) }, 'writing held audit rows failed');
      }
    },
    append(e, at) {
      o.beforeWrite?.();
      flush();
      if (queue.length === 0 && lost === 0) {
        // Once more after the disk-full hook (which may release the reserve), then hold.
        for (let attempt = 0; attempt < 2; attempt++) {
          try {
            appendAudit(db, e, at);
            return;
          } catch (err) {
            if (!isDiskFull(err)) throw err;
            if (attempt === 0) o.onFull?.();
          }
        }
      }
      if (!warned) o.log.error({ room: 'audit' }, 'data disk full: audit rows are held in memory until there is room');
      warned = true;
      if (queue.length < max) queue.push({ e, at });
      else {
        lost++;
        lostFrom ??= at;
        lostTo = at;
      }
    },
  };
}
