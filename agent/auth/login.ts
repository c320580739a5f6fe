import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import type { Db } from '../store/db.js';
import { ldapAuthenticate, type LdapOutcome } from './ldap.js';
import { burnVerify, verifyPassword } from './passwords.js';
import { getUser, type Role } from './users.js';
import type { AuthMethod } from './sessions.js';

export type LoginResult =
  | { ok: true; actor: string; role: Role; auth: AuthMethod; note?: string }
  | { ok: false; why: 'credentials' | 'disabled' | 'no-group' };

/**
 * Directory first when one is configured; local accounts when there is none
 * or it cannot be reached (it is often down in the same outage). A directory
 * that answers "wrong password" is final: no second try against a local hash.
 * A locally disabled account stays disabled whatever the directory says.
 */
export async function authenticate(deps: { config: LoadedConfig; db: Db; log: Logger; ldap?: typeof ldapAuthenticate }, username: string, password: string): Promise<LoginResult> {
  const user = getUser(deps.db, username);
  if (user?.disabled) {
    await burnVerify(password);
    return { ok: false, why: 'disabled' };
  }
  const ldapCfg = deps.config.box.auth.ldap;
  let note: string | undefined;
  if (ldapCfg) {
    const r: LdapOutcome = await (deps.ldap ?? ldapAuthenticate)(ldapCfg, deps.config.dir, username, password);
    if (r.kind === 'ok') return { ok: true, actor: user?.username ?? username.toLowerCase(), role: r.role, auth: 'ldap' };
    if (r.kind === 'rejected') return { ok: false, why: r.why };
    deps.log.warn({ room: 'auth', err: { name: 'DirectoryError', code: 'directory-unreachable', retryable: true, message: r.error.slice(0, 300) } }, 'directory unreachable; using local accounts');
    note = 'directory unreachable';
  }
  if (!user?.passwordHash) return { ok: false, why: user ? 'credentials' : await burnVerify(password).then(() => 'credentials' as const) };
  if (!(await verifyPassword(user.passwordHash, password))) return { ok: false, why: 'credentials' };
  return { ok: true, actor: user.username, role: user.role, auth: 'local', note };
}
