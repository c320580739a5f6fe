import type { Db } from '../../agent/store/db.js';
import { addUser, getUser } from '../../agent/auth/users.js';

/** Accounts every web test signs in with. */
export const NURSE = { username: 'lan.nguyen', password: 'correct horse battery', role: 'nurse' as const };
export const ADMIN = { username: 'it.admin', password: 'staple paper clip tray', role: 'admin' as const };

export async function addTestUsers(db: Db): Promise<void> {
  for (const u of [NURSE, ADMIN]) if (!getUser(db, u.username)) await addUser(db, { ...u, displayName: u.username });
}

/** A cookie jar for fetch against a real server on loopback. */
export interface WebClient {
  cookies: Map<string, string>;
  /** The CSRF token (the pb_csrf cookie's value) for forms and X-CSRF-Token. */
  csrf(): string;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  form(path: string, fields: Record<string, string>): Promise<Response>;
}

export function webClient(base: string): WebClient {
  const cookies = new Map<string, string>();
  const client: WebClient = {
    cookies,
    csrf: () => cookies.get('pb_csrf') ?? '',
    async fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      if (cookies.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
      const res = await fetch(`${base}${path}`, { ...init, headers, redirect: 'manual' });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair!.indexOf('=');
        const name = pair!.slice(0, eq);
        const value = pair!.slice(eq + 1);
        if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) cookies.delete(name);
        else cookies.set(name, value);
      }
      return res;
    },
    form(path, fields) {
      return client.fetch(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: client.csrf(), ...fields }).toString() });
    },
  };
  return client;
}

/** Sign in through the real login form; fails the test if the box does not answer with a session. */
export async function signIn(base: string, user: { username: string; password: string }): Promise<WebClient> {
  const c = webClient(base);
  await c.fetch('/login');
  const res = await c.form('/login', { username: user.username, password: user.password, next: '/' });
  if (res.status !== 303 || !c.cookies.has('pb_session')) throw new Error(`sign-in as ${user.username} failed: ${res.status} ${await res.text()}`);
  return c;
}
