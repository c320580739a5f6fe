import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { FhirSourceConfig } from '../../config/schema.js';
import { SourceError } from '../http.js';

export interface AuthProvider {
  headers(): Promise<Record<string, string>>;
  /** Forget a cached token (the server said 401). */
  invalidate(): void;
}

const readSecret = (configDir: string, file: string, what: string): string => {
  const p = path.resolve(configDir, file);
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch (err) {
    throw new SourceError(`cannot read the ${what} file ${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { retryable: false, code: 'auth-config' });
  }
};

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** A signed client assertion for SMART Backend Services (RFC 7523 private_key_jwt). */
export function clientAssertion(opts: { clientId: string; tokenUrl: string; key: crypto.KeyObject; alg: 'RS384' | 'ES384'; kid?: string; now?: Date }): string {
  const now = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const header = { alg: opts.alg, typ: 'JWT', ...(opts.kid ? { kid: opts.kid } : {}) };
  const payload = { iss: opts.clientId, sub: opts.clientId, aud: opts.tokenUrl, exp: now + 300, iat: now, jti: crypto.randomUUID() };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const sig = crypto.sign('sha384', Buffer.from(input), opts.alg === 'ES384' ? { key: opts.key, dsaEncoding: 'ieee-p1363' } : opts.key);
  return `${input}.${b64url(sig)}`;
}

const tokenResponse = z.object({ access_token: z.string().min(1), token_type: z.string(), expires_in: z.number().optional(), scope: z.string().optional() }).loose();

export function authProvider(cfg: FhirSourceConfig, configDir: string, post: (url: string, form: URLSearchParams) => Promise<{ status: number; body: string }>): AuthProvider {
  const auth = cfg.auth;
  switch (auth.kind) {
    case 'none':
      return { headers: async () => ({}), invalidate: () => {} };
    case 'basic': {
      const pw = readSecret(configDir, auth.passwordFile, 'password');
      const value = `Basic ${Buffer.from(`${auth.username}:${pw}`).toString('base64')}`;
      return { headers: async () => ({ authorization: value }), invalidate: () => {} };
    }
    case 'bearer': {
      const token = readSecret(configDir, auth.tokenFile, 'token');
      return { headers: async () => ({ authorization: `Bearer ${token}` }), invalidate: () => {} };
    }
    case 'smart-backend': {
      const key = crypto.createPrivateKey(readSecret(configDir, auth.privateKeyFile, 'private key'));
      let cached: { token: string; expiresAt: number } | null = null;
      let inflight: Promise<string> | null = null;
      const fetchToken = async (): Promise<string> => {
        const form = new URLSearchParams({
          grant_type: 'client_credentials',
          scope: auth.scope,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: clientAssertion({ clientId: auth.clientId, tokenUrl: auth.tokenUrl, key, alg: auth.algorithm, kid: auth.keyId }),
        });
        const res = await post(auth.tokenUrl, form);
        if (res.status !== 200) throw new SourceError(`the token endpoint refused Paperback's client credentials: HTTP ${res.status}`, { status: res.status, retryable: res.status >= 500, code: 'auth' });
        let parsed;
        try {
          parsed = tokenResponse.safeParse(JSON.parse(res.body));
        } catch {
          throw new SourceError('the token endpoint answered with something that is not JSON', { retryable: false, code: 'auth' });
        }
        if (!parsed.success) throw new SourceError('the token endpoint answered without an access_token', { retryable: false, code: 'auth' });
        // Servers silently drop scopes they do not grant: reading with none would fail later and less clearly.
        if (parsed.data.scope !== undefined && parsed.data.scope.trim() === '') throw new SourceError(`the token endpoint granted no scope (asked for "${auth.scope}")`, { retryable: false, code: 'auth-scope' });
        const ttl = (parsed.data.expires_in ?? 300) * 1000;
        // Renew a little early so a token never expires between check and use.
        cached = { token: parsed.data.access_token, expiresAt: Date.now() + Math.max(ttl - 30_000, ttl / 2) };
        return cached.token;
      };
      return {
        async headers() {
          if (!cached || Date.now() >= cached.expiresAt) {
            inflight ??= fetchToken().finally(() => (inflight = null));
            await inflight;
          }
          return { authorization: `Bearer ${cached!.token}` };
        },
        invalidate: () => (cached = null),
      };
    }
  }
}
