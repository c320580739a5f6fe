import type { Db } from '../store/db.js';
import { readSetting, writeSetting } from '../store/settings.js';
import { hashPassword, verifyPassword } from './passwords.js';

/**
 * The ward's break-glass code: set by IT, kept only as an argon2id hash, and
 * accepted only while a downtime is declared or detected, so it cannot be a
 * quiet everyday way around accounts.
 */
const NAME = 'break-glass-code';

export async function setBreakGlassCode(db: Db, code: string, now = new Date()): Promise<void> {
  if (!/^\S{6,64}$/.test(code)) throw new Error('a break-glass code needs 6 to 64 characters without spaces');
  const hash = await hashPassword(code);
  writeSetting(db, NAME, hash, now);
}

export function breakGlassConfigured(db: Db): boolean {
  return readSetting(db, NAME) !== null;
}

export async function checkBreakGlassCode(db: Db, code: string): Promise<boolean> {
  const hash = readSetting(db, NAME);
  return hash ? verifyPassword(hash, code) : false;
}

/** What a nurse types as her name becomes part of the actor; keep it printable and short. */
export function cleanTypedName(name: string): string | null {
  const n = name.normalize('NFC').replace(/[\p{C}<>"'`]/gu, '').replace(/\s+/g, ' ').trim().slice(0, 60);
  return [...n].length >= 3 ? n : null;
}
