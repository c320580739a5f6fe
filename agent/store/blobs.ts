import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StoreError } from './db.js';

/**
 * Content-addressed files under DATA/blobs/ab/abcdef…, named by the SHA-256 of
 * their content. Written to a temporary file, fsynced, then renamed, so a file
 * at its final name is always complete. Checked against its name on every read.
 */
export interface BlobStore {
  dir: string;
  put(content: Buffer): { sha256: string; size: number };
  get(sha256: string): Buffer;
  has(sha256: string): boolean;
  remove(sha256: string): void;
  /** Every file name on disk, blobs and leftover temporary files (for verify and garbage collection). */
  list(): string[];
  /** Age of a file from list(), in milliseconds. */
  ageMs(name: string): number;
  /** Remove a file from list() by name, whatever it is. */
  removeRaw(name: string): void;
  pathOf(sha256: string): string;
}

export class BlobIntegrityError extends StoreError {
  constructor(sha256: string, actual: string) {
    super(`artifact ${sha256.slice(0, 12)}… failed its integrity check (content hashes to ${actual.slice(0, 12)}…); it will not be served`, { sha256, actual });
    this.name = 'BlobIntegrityError';
  }
}

export const sha256Hex = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function openBlobStore(dataDir: string): BlobStore {
  const dir = path.join(dataDir, 'blobs');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pathOf = (sha: string) => {
    if (!/^[0-9a-f]{64}$/.test(sha)) throw new StoreError('not a SHA-256 hex digest', { sha256: sha });
    return path.join(dir, sha.slice(0, 2), sha);
  };
  const findTmp = (name: string): string | null => {
    for (const sub of fs.readdirSync(dir)) {
      const p = path.join(dir, sub, name);
      if (fs.existsSync(p)) return p;
    }
    return null;
  };
  return {
    dir,
    pathOf,
    put(content) {
      const sha = sha256Hex(content);
      const final = pathOf(sha);
      if (fs.existsSync(final)) return { sha256: sha, size: content.length };
      const sub = path.dirname(final);
      fs.mkdirSync(sub, { recursive: true, mode: 0o700 });
      const tmp = path.join(sub, `.tmp-${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
      const fd = fs.openSync(tmp, 'w', 0o600);
      try {
        fs.writeSync(fd, content);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, final);
      fsyncDir(sub);
      return { sha256: sha, size: content.length };
    },
    get(sha) {
      const content = fs.readFileSync(pathOf(sha));
      const actual = sha256Hex(content);
      if (actual !== sha) throw new BlobIntegrityError(sha, actual);
      return content;
    },
    has: (sha) => fs.existsSync(pathOf(sha)),
    remove(sha) {
      fs.rmSync(pathOf(sha), { force: true });
    },
    ageMs(name) {
      const sub = name.startsWith('.tmp-') ? findTmp(name) : path.join(dir, name.slice(0, 2), name);
      return sub ? Date.now() - fs.statSync(sub).mtimeMs : 0;
    },
    removeRaw(name) {
      const p = name.startsWith('.tmp-') ? findTmp(name) : path.join(dir, name.slice(0, 2), name);
      if (p) fs.rmSync(p, { force: true });
    },
    list() {
      const out: string[] = [];
      for (const sub of fs.readdirSync(dir)) {
        const subDir = path.join(dir, sub);
        if (!fs.statSync(subDir).isDirectory()) continue;
        for (const f of fs.readdirSync(subDir)) out.push(f);
      }
      return out;
    },
  };
}
