import fs from 'node:fs';
import path from 'node:path';
import type { BoxConfig } from '../config/schema.js';
import type { Role } from './users.js';

export type LdapSettings = NonNullable<BoxConfig['auth']['ldap']>;

export type LdapOutcome =
  | { kind: 'ok'; role: Role; dn: string }
  | { kind: 'rejected'; why: 'credentials' | 'no-group' }
  /** The directory could not be asked: the caller falls back to local accounts. */
  | { kind: 'unreachable'; error: string };

/** Escape a value for use inside a DN (RFC 4514 §2.4), so a user name cannot change the DN's shape. */
export function escapeDnValue(v: string): string {
  return v
    .replace(/[\\,+"<>;=#]/g, (c) => `\\${c}`)
    .replace(/^ /, '\\ ')
    .replace(/ $/, '\\ ')
    .replace(/\0/g, '\\00');
}

const sameDn = (a: string, b: string) => a.replace(/\s*,\s*/g, ',').toLowerCase() === b.replace(/\s*,\s*/g, ',').toLowerCase();

/**
 * Bind as the user; read group membership with the user's own rights. A
 * user in no configured group is refused (a directory account is not by
 * itself permission to see patients).
 */
export async function ldapAuthenticate(cfg: LdapSettings, configDir: string, username: string, password: string): Promise<LdapOutcome> {
  if (!password) return { kind: 'rejected', why: 'credentials' }; // an empty password is an anonymous bind: never a login
  const dn = cfg.userDn.replace('{user}', escapeDnValue(username));
  // Loaded on the first directory login: a box without LDAP never holds the client.
  const { Client, EqualityFilter, InvalidCredentialsError, ResultCodeError } = await import('ldapts');
  const client = new Client({
    url: cfg.url,
    timeout: cfg.timeoutMs,
    connectTimeout: cfg.timeoutMs,
    tlsOptions: cfg.caFile ? { ca: fs.readFileSync(path.resolve(configDir, cfg.caFile)) } : undefined,
  });
  try {
    await client.bind(dn, password);
    if (!cfg.groupBase || (!cfg.adminGroup && !cfg.nurseGroup)) return { kind: 'ok', role: 'nurse', dn };
    const { searchEntries } = await client.search(cfg.groupBase, { scope: 'sub', filter: new EqualityFilter({ attribute: 'member', value: dn }), attributes: ['dn'] });
    const groups = searchEntries.map((e) => e.dn);
    if (cfg.adminGroup && groups.some((g) => sameDn(g, cfg.adminGroup!))) return { kind: 'ok', role: 'admin', dn };
    if (!cfg.nurseGroup || groups.some((g) => sameDn(g, cfg.nurseGroup!))) return { kind: 'ok', role: 'nurse', dn };
    return { kind: 'rejected', why: 'no-group' };
  } catch (err) {
    if (err instanceof InvalidCredentialsError) return { kind: 'rejected', why: 'credentials' };
    // Other LDAP result codes (e.g. no such object for an unknown user) are answers, not outages.
    if (err instanceof ResultCodeError) return { kind: 'rejected', why: 'credentials' };
    return { kind: 'unreachable', error: (err as Error).message.slice(0, 200) };
  } finally {
    await client.unbind().catch(() => undefined);
  }
}
