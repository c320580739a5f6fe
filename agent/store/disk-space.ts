import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Logger } from 'pino';
import { errorFields } from '../log/errors.js';

/**
 * A full data disk must not take the ward page down. Two parts:
 * - `isDiskFull` tells a write that failed for lack of space from any other
 *   failure (SQLite's SQLITE_FULL, the file system's ENOSPC);
 * - the reserve: a file of `bytes` kept in the data folder while there is
 *   room. When free space falls under `lowWaterBytes` it is deleted, which
 *   gives the store room for sessions, print requests and audit rows while
 *   IT frees the disk; readiness and /metrics say so from the start. The
 *   daemon makes it (again) once there is plenty of room; a CLI command only
 *   ever releases it.
 */
export const isDiskFull = (err: unknown): boolean => {
  const code = (err as { code?: string } | null)?.code ?? '';
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT';
};

export const RESERVE_FILE = 'disk-reserve.bin';

export interface DiskReserve {
  /** Look at free space: release the reserve when low; with `make`, make it again when there is plenty. Cheap (one statfs). */
  check(opts?: { make?: boolean }): void;
  /** Free bytes on the data disk now (null if it cannot be read). */
  freeBytes(): number | null;
  /** True while the reserve is released for lack of space. */
  released(): boolean;
}

export function diskReserve(dataDir: string, o: { bytes: number; lowWaterBytes: number; log: Logger }): DiskReserve {
  const file = path.join(dataDir, RESERVE_FILE);
  let isReleased = false;
  const freeBytes = () => {
    try {
      const s = fs.statfsSync(dataDir);
      return s.bavail * s.bsize;
    } catch {
      return null;
    }
  };
  const make = () => {
    // fallocate takes the blocks without writing them (a sparse file would hold no room at all); zeros where it cannot.
    if (spawnSync('fallocate', ['-l', String(o.bytes), `${file}.tmp`]).status !== 0) {
      const chunk = Buffer.alloc(Math.min(o.bytes, 1024 * 1024));
      const fd = fs.openSync(`${file}.tmp`, 'w', 0o600);
      try {
        for (let left = o.bytes; left > 0; left -= chunk.length) fs.writeSync(fd, chunk, 0, Math.min(chunk.length, left));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    fs.renameSync(`${file}.tmp`, file);
  };
  let makes = false;
  const check = (opts: { make?: boolean } = {}) => {
    if (opts.make) makes = true;
    if (o.bytes <= 0) return;
    const free = freeBytes();
    if (free === null) return;
    const have = fs.existsSync(file);
    if (have && free < o.lowWaterBytes) {
      fs.rmSync(file, { force: true });
      isReleased = true;
      o.log.error({ room: 'store', freeBytes: free, reserveBytes: o.bytes }, 'data disk nearly full: the reserve was released so the ward page, printing and the audit keep working; free space now');
    } else if (!have && makes && free > o.lowWaterBytes + 4 * o.bytes) {
      try {
        make();
        if (isReleased) o.log.info({ room: 'store', freeBytes: free }, 'data disk has room again: the reserve is back');
        isReleased = false;
      } catch (err) {
        fs.rmSync(`${file}.tmp`, { force: true });
        o.log.warn({ room: 'store', err: errorFields(err) }, 'could not make the disk reserve');
      }
    } else if (!have && free <= o.lowWaterBytes + 4 * o.bytes) isReleased = true;
  };
  return { check, freeBytes, released: () => isReleased };
}
