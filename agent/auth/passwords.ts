import argon2 from 'argon2';
import { PaperbackError } from '../log/errors.js';

/**
 * argon2id at OWASP's first recommended setting (19 MiB, 2 passes, 1 lane):
 * about 30–60 ms on an old ward PC, slow enough to make guessing a stolen
 * hash expensive, fast enough that a login never feels slow.
 */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export class PasswordPolicyError extends PaperbackError {
  constructor(message: string) {
    super('password-policy', message);
  }
}

/** Long beats complex (NIST SP 800-63B): at least 10 characters, not the user name. */
export function checkPasswordPolicy(password: string, username: string): void {
  if ([...password].length < 10) throw new PasswordPolicyError('a password needs at least 10 characters');
  if ([...password].length > 200) throw new PasswordPolicyError('a password can have at most 200 characters');
  if (password.toLowerCase().includes(username.toLowerCase())) throw new PasswordPolicyError('a password must not contain the user name');
}

export const hashPassword = (password: string): Promise<string> => argon2.hash(password.normalize('NFC'), OPTIONS);

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password.normalize('NFC'));
  } catch {
    return false;
  }
}

/**
 * A hash of nothing in particular, verified against when the user does not
 * exist, so a wrong user name takes as long as a wrong password.
 */
let dummy: Promise<string> | null = null;
export async function burnVerify(password: string): Promise<false> {
  dummy ??= hashPassword('paperback-no-such-user');
  await verifyPassword(await dummy, password);
  return false;
}
