import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StoreError } from './db.js';

/** Name of the systemd credential (LoadCredential=data-key:/etc/paperback/data.key). */
export const CREDENTIAL_NAME = 'data-key';

export interface DataKeySettings {
  /** Absolute path from the config, or null for the systemd credential, else CONFIG/data.key. */
  keyFile: string | null;
  configDir: string;
  /** Make a new key when the file is missing (the demo, tests, first install). */
  createKey: boolean;
  dataDir: string;
}

/**
 * Where the data key lives: the configured file, else the systemd credential
 * (the service), else data.key in the config folder (the CLI run by IT as the
 * paperback user). Never inside the data directory: a copy of the data
 * folder alone must be unreadable.
 */
export function dataKeyPath(s: DataKeySettings, env: NodeJS.ProcessEnv = process.env): string {
  const file = s.keyFile ?? (env.CREDENTIALS_DIRECTORY ? path.join(env.CREDENTIALS_DIRECTORY, CREDENTIAL_NAME) : path.join(s.configDir, 'data.key'));
  const rel = path.relative(path.resolve(s.dataDir), path.resolve(file));
  if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
    throw new StoreError(`encryption.keyFile (${file}) is inside the data directory; keep the key elsewhere so a copy of the data is unreadable without it`);
  }
  return file;
}

/** Read (or, when allowed, create) the 32-byte AES-256 data key. Accepts 64 hex characters or 32 raw bytes. */
export function loadDataKey(s: DataKeySettings, env: NodeJS.ProcessEnv = process.env): Buffer {
  const file = dataKeyPath(s, env);
  if (!fs.existsSync(file)) {
    if (!s.createKey) throw new StoreError(`the data key file ${file} does not exist; create it with \`openssl rand -hex 32 > ${file}; chmod 600 ${file}\``);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // wx: two processes starting at once must not both write a key.
    try {
      fs.writeFileSync(file, `${crypto.randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const st = fs.statSync(file);
  // Owner-only, or root:paperback 0640 so the service account can read it; never other users, never group-writable.
  if ((st.mode & 0o027) !== 0) throw new StoreError(`the data key file ${file} can be read or changed by other users (mode ${(st.mode & 0o777).toString(8)}); run \`chmod 600 ${file}\` (or 640 with group paperback)`);
  const raw = fs.readFileSync(file);
  const text = raw.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (raw.length === 32) return raw;
  throw new StoreError(`the data key file ${file} must hold 64 hex characters (openssl rand -hex 32)`);
}
