import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { nowIso, StoreError, type Db } from './db.js';

/**
 * Content-addressed files under DATA/blobs/ab/abcdef…, named by the SHA-256 of
 * their plaintext. Written to a temporary file, fsynced, then renamed, so a file
 * at its final name is always complete. Checked against its name on every read.
 *
 * With a data key every file is sealed with AES-256-GCM: "PBX1", a 12-byte
 * random IV, the 16-byte tag, then the ciphertext; the file's name is the
 * additional data, so a file copied under another name fails to open.
 */
export interface BlobStore {
  dir: string;
  put(content: Buffer): { sha256: string; size: number };
  /** put() off the main thread's I/O: several at once let their fsyncs overlap. */
  putAsync(content: Buffer): Promise<{ sha256: string; size: number }>;
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
  /** Whether a stored file is sealed (false: written before encryption was on). */
  isSealed(sha256: string): boolean;
  /** Re-seal one file under the current key (key rotation, or a file from before encryption); true if it was rewritten. */
  reseal(sha256: string): boolean;
  /** Seal a value kept in SQLite (an HL7 message, a patient's ADT record) under the data key; `name` binds it to its row. */
  sealValue(name: string, plain: Buffer): Buffer;
  openValue(name: string, stored: Buffer): Buffer;
}

const MAGIC = Buffer.from('PBX1');
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function sealBlob(key: Buffer, name: string, plain: Buffer): Buffer {
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(name));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([MAGIC, iv, cipher.getAuthTag(), body]);
}

export function openSealedBlob(key: Buffer, name: string, sealed: Buffer): Buffer {
  const iv = sealed.subarray(4, 4 + IV_BYTES);
  const tag = sealed.subarray(4 + IV_BYTES, 4 + IV_BYTES + TAG_BYTES);
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(name));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(sealed.subarray(4 + IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new BlobIntegrityError(name, 'unreadable: wrong data key or damaged file');
  }
}

const isSealedBuffer = (b: Buffer) => b.length >= 4 + IV_BYTES + TAG_BYTES && b.subarray(0, 4).equals(MAGIC);

export class BlobIntegrityError extends StoreError {
  constructor(sha256: string, actual: string) {
    super(`artifact ${sha256.slice(0, 12)}… failed its integrity check (${/^[0-9a-f]{64}$/.test(actual) ? `content hashes to ${actual.slice(0, 12)}…` : actual}); it will not be served`, { sha256, actual }, 'blob-integrity');
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

/**
 * `key` is the 32-byte data key (see data-key.ts), or null to store plaintext
 * (only tests of the store itself do that).
 */
export function openBlobStore(dataDir: string, key: Buffer | null, previousKeys: Buffer[] = []): BlobStore {
  if (key && key.length !== 32) throw new StoreError('the data key must be 32 bytes (AES-256)');
  /** During a key rotation, files not yet re-sealed open with a previous key. */
  const unseal = (sha: string, raw: Buffer): Buffer => {
    if (!key) throw new BlobIntegrityError(sha, 'sealed, and no data key was given');
    try {
      return openSealedBlob(key, sha, raw);
    } catch (err) {
      for (const k of previousKeys) {
        try {
          return openSealedBlob(k, sha, raw);
        } catch {
          // try the next one
        }
      }
      throw err;
    }
  };
  const dir = path.join(dataDir, 'blobs');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pathOf = (sha: string) => {
    if (!/^[0-9a-f]{64}$/.test(sha)) throw new StoreError('not a SHA-256 hex digest', { sha256: sha });
    return path.join(dir, sha.slice(0, 2), sha);
  };
  // A shard folder is made when opening a file in it finds it missing (the first write there, or after
  // someone removed it), not asked for with a recursive mkdir before every file.
  const gone = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';
  /** Temporary file, fsync, rename, fsync the folder: a file at its final name is always whole. */
  const writeAtomically = (final: string, bytes: Buffer) => {
    const sub = path.dirname(final);
    const tmp = path.join(sub, `.tmp-${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
    let fd: number;
    try {
      fd = fs.openSync(tmp, 'w', 0o600);
    } catch (err) {
      if (!gone(err)) throw err;
      fs.mkdirSync(sub, { recursive: true, mode: 0o700 });
      fd = fs.openSync(tmp, 'w', 0o600);
    }
    try {
      try {
        fs.writeSync(fd, bytes);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, final);
    } catch (err) {
      // A write that failed (a full disk) leaves no half file behind.
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    fsyncDir(sub);
  };
  /** writeAtomically, through the thread pool. */
  const writeAtomicallyAsync = async (final: string, bytes: Buffer) => {
    const sub = path.dirname(final);
    const tmp = path.join(sub, `.tmp-${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
    const fh = await fs.promises.open(tmp, 'w', 0o600).catch(async (err: unknown) => {
      if (!gone(err)) throw err;
      await fs.promises.mkdir(sub, { recursive: true, mode: 0o700 });
      return fs.promises.open(tmp, 'w', 0o600);
    });
    try {
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.promises.rename(tmp, final);
    } catch (err) {
      await fs.promises.rm(tmp, { force: true });
      throw err;
    }
    const dh = await fs.promises.open(sub, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  };
  /** Where content goes and, unless a file with that content is already there, the bytes to write. */
  const toWrite = (content: Buffer) => {
    const sha = sha256Hex(content);
    const final = pathOf(sha);
    return { final, bytes: fs.existsSync(final) ? null : key ? sealBlob(key, sha, content) : content, stored: { sha256: sha, size: content.length } };
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
      const w = toWrite(content);
      if (w.bytes) writeAtomically(w.final, w.bytes);
      return w.stored;
    },
    async putAsync(content) {
      const w = toWrite(content);
      if (w.bytes) await writeAtomicallyAsync(w.final, w.bytes);
      return w.stored;
    },
    get(sha) {
      const raw = fs.readFileSync(pathOf(sha));
      let content: Buffer = raw;
      if (isSealedBuffer(raw)) content = unseal(sha, raw);
      const actual = sha256Hex(content);
      if (actual !== sha) throw new BlobIntegrityError(sha, actual);
      return content;
    },
    has: (sha) => fs.existsSync(pathOf(sha)),
    sealValue: (name, plain) => (key ? sealBlob(key, name, plain) : plain),
    openValue: (name, stored) => (isSealedBuffer(stored) ? unseal(name, stored) : stored),
    reseal(sha) {
      if (!key) throw new StoreError('no data key to seal with');
      const file = pathOf(sha);
      const raw = fs.readFileSync(file);
      if (isSealedBuffer(raw)) {
        try {
          openSealedBlob(key, sha, raw);
          return false; // already under the current key
        } catch {
          // sealed under a previous key: re-seal below
        }
      }
      const plain = isSealedBuffer(raw) ? unseal(sha, raw) : raw;
      const actual = sha256Hex(plain);
      if (actual !== sha) throw new BlobIntegrityError(sha, actual);
      writeAtomically(file, sealBlob(key, sha, plain));
      return true;
    },
    isSealed(sha) {
      const fd = fs.openSync(pathOf(sha), 'r');
      try {
        const head = Buffer.alloc(4 + IV_BYTES + TAG_BYTES);
        const n = fs.readSync(fd, head, 0, head.length, 0);
        return isSealedBuffer(head.subarray(0, n));
      } finally {
        fs.closeSync(fd);
      }
    },
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

/**
 * The one place a stored file gets its row in `blobs`: retention, verify and
 * the unrecorded-file sweep all count on every file a row names having one.
 * Prepared once, for a caller that records many (a snapshot's artifacts).
 */
export function blobRows(db: Db, now: Date): (sha256: string, size: number) => void {
  const insert = db.prepare('INSERT OR IGNORE INTO blobs (sha256, size, created_at) VALUES (?, ?, ?)');
  const at = nowIso(now);
  return (sha256, size) => void insert.run(sha256, size, at);
}
