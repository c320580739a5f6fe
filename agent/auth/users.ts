import type { Db } from '../store/db.js';
import { nowIso } from '../store/db.js';
import { checkPasswordPolicy, hashPassword } from './passwords.js';
import { PaperbackError } from '../log/errors.js';

export type Role = 'nurse' | 'admin';

export interface User {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  passwordHash: string | null;
  disabled: boolean;
  createdAt: string;
  passwordSetAt: string | null;
}

export class UserError extends PaperbackError {
  constructor(message: string) {
    super('user', message);
  }
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$/;

export function checkUsername(name: string): string {
  if (!USERNAME.test(name)) throw new UserError(`"${name.slice(0, 70)}" is not a valid user name: 2–64 letters, digits, dot, dash or underscore`);
  return name;
}

const COLS = `id, username, display_name AS displayName, role, password_hash AS passwordHash, disabled, created_at AS createdAt, password_set_at AS passwordSetAt`;
const toUser = (r: (Omit<User, 'disabled'> & { disabled: number }) | undefined): User | null => (r ? { ...r, disabled: r.disabled === 1 } : null);

export function getUser(db: Db, username: string): User | null {
  return toUser(db.prepare(`SELECT ${COLS} FROM users WHERE username = ?`).get(username) as never);
}

export function listUsers(db: Db): User[] {
  return (db.prepare(`SELECT ${COLS} FROM users ORDER BY username`).all() as never[]).map((r) => toUser(r)!);
}

export async function addUser(db: Db, u: { username: string; displayName: string; role: Role; password: string | null }, now = new Date()): Promise<User> {
  checkUsername(u.username);
  if (getUser(db, u.username)) throw new UserError(`user "${u.username}" already exists; use \`paperback user passwd\` to change the password`);
  if (u.password !== null) checkPasswordPolicy(u.password, u.username);
  const hash = u.password === null ? null : await hashPassword(u.password);
  db.prepare('INSERT INTO users (username, display_name, role, password_hash, created_at, password_set_at) VALUES (?, ?, ?, ?, ?, ?)').run(
    u.username,
    u.displayName.trim().slice(0, 100) || u.username,
    u.role,
    hash,
    nowIso(now),
    hash ? nowIso(now) : null,
  );
  return getUser(db, u.username)!;
}

export async function setPassword(db: Db, username: string, password: string, now = new Date()): Promise<void> {
  const user = getUser(db, username);
  if (!user) throw new UserError(`no user "${username}"`);
  checkPasswordPolicy(password, username);
  const hash = await hashPassword(password);
  db.transaction(() => {
    db.prepare('UPDATE users SET password_hash = ?, password_set_at = ? WHERE id = ?').run(hash, nowIso(now), user.id);
    // A new password ends every session opened with the old one.
    db.prepare('DELETE FROM sessions WHERE actor = ?').run(user.username);
  })();
}

export function setDisabled(db: Db, username: string, disabled: boolean): void {
  const user = getUser(db, username);
  if (!user) throw new UserError(`no user "${username}"`);
  db.transaction(() => {
    db.prepare('UPDATE users SET disabled = ? WHERE id = ?').run(disabled ? 1 : 0, user.id);
    if (disabled) db.prepare('DELETE FROM sessions WHERE actor = ?').run(user.username);
  })();
}
