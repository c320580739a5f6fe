import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirSourceConfig } from '../../agent/config/schema.js';
import { fhirSourceSchema } from '../../agent/config/schema.js';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { createFhirSource } from '../../agent/sources/fhir/index.js';
import { DATASETS } from '../../agent/model/ward.js';
import { freePort } from '../support/printers.js';
import { NOW, startHis, tmpDir } from '../support/fixtures.js';

/**
 * SMART Backend Services against a real OAuth 2 server (oidc-provider):
 * client credentials with a private_key_jwt assertion, tokens that expire
 * after 2 s, and a FHIR server that only answers valid tokens.
 */
let his: FhirTestServer;
let provider: InstanceType<typeof Provider>;
let oauth: Server;
let tokenUrl: string;
let grants = 0;
const dir = tmpDir('pb-smart-');
const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
const { privateKey: strangerKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });

beforeAll(async () => {
  ({ server: his } = await startHis({ patients: 3 }));
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  tokenUrl = `${issuer}/token`;
  provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'paperback-ward-box',
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES384',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'box-1', alg: 'ES384', use: 'sig' }] },
        scope: 'system/*.read',
      },
    ],
    features: { clientCredentials: { enabled: true } },
    scopes: ['system/*.read', 'system/Patient.write'],
    enabledJWA: { clientAuthSigningAlgValues: ['RS384', 'ES384'] },
    ttl: { ClientCredentials: 2 },
  });
  // Remember each issued token and when it expires, as the FHIR server's token check.
  provider.on('grant.success', (ctx: { body?: { access_token?: string; expires_in?: number } }) => {
    grants++;
    if (ctx.body?.access_token) issued.set(ctx.body.access_token, Date.now() + (ctx.body.expires_in ?? 0) * 1000);
  });
  oauth = provider.listen(port);
  // The FHIR server answers only bearer tokens the authorization server issued and that have not expired.
  his.fault = ({ headers }) => {
    const token = /^Bearer (.+)$/.exec(String(headers.authorization ?? ''))?.[1];
    return token && issued.has(token) && issued.get(token)! > Date.now() ? undefined : { kind: 'status', status: 401 };
  };
  fs.writeFileSync(path.join(dir, 'box.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
  fs.writeFileSync(path.join(dir, 'stranger.pem'), strangerKey.export({ format: 'pem', type: 'pkcs8' }));
});
const issued = new Map<string, number>();
afterAll(async () => {
  his.fault = null;
  await his.close();
  oauth.close();
});

const source = (over: Partial<Extract<FhirSourceConfig['auth'], { kind: 'smart-backend' }>> = {}) =>
  createFhirSource(
    fhirSourceSchema.parse({ id: 'his', kind: 'fhir', baseUrl: his.url, retries: 0, auth: { kind: 'smart-backend', tokenUrl, clientId: 'paperback-ward-box', privateKeyFile: 'box.pem', keyId: 'box-1', algorithm: 'ES384', scope: 'system/*.read', ...over } }),
    { configDir: dir },
  );
const pull = (s: ReturnType<typeof source>) => s.pull({ ward: { id: 'ward-1', name: 'W' }, location: 'Location/ward-1', datasets: DATASETS, now: NOW, signal: AbortSignal.timeout(20_000) });

describe('SMART Backend Services authentication', () => {
  it('gets a token with a signed assertion, reuses it, and fetches a new one when it expires', async () => {
    const s = source();
    const before = grants;
    const first = await pull(s);
    expect(first.snapshot.patients).toHaveLength(3);
    expect(grants - before).toBe(1); // one token for all of a pull's requests
    await new Promise((r) => setTimeout(r, 2200)); // the 2-second token is now expired
    const second = await pull(s);
    expect(second.snapshot.patients).toHaveLength(3);
    expect(grants - before).toBe(2);
  });

  it('drops a token the server rejects and asks for a new one once', async () => {
    const s = source();
    await pull(s);
    const before = grants;
    issued.clear(); // the FHIR server forgets every token (e.g. revoked)
    const again = await pull(s);
    expect(again.snapshot.patients).toHaveLength(3);
    expect(grants - before).toBe(1);
  });

  it('fails clearly when the authorization server refuses the key or grants no scope', async () => {
    await expect(pull(source({ privateKeyFile: 'stranger.pem' }))).rejects.toThrow(/token endpoint refused Paperback's client credentials: HTTP 40[01]/);
    await expect(pull(source({ scope: 'system/Patient.write' }))).rejects.toThrow(/granted no scope|refused/);
    // A missing key file is a configuration error, found when the source is created.
    expect(() => source({ privateKeyFile: 'missing.pem' })).toThrow(/cannot read the private key file .*missing.pem: ENOENT/);
  });
});
