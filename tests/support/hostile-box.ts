import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { runJob } from '../../agent/schedule/run.js';
import { buildWebServer } from '../../agent/web/server.js';
import { openTestAgent, startHis, tmpDir, writeConfigDir, type TestAgent } from './fixtures.js';
import { ADMIN, NURSE, addTestUsers, signIn, type WebClient } from './web.js';

export interface HostileBox {
  his: FhirTestServer;
  a: TestAgent;
  app: FastifyInstance;
  base: string;
  nurse: WebClient;
  admin: WebClient;
  /** The MRN of the patient whose name the HIS sent as markup. */
  mrn: string;
  dir: string;
  close(): Promise<void>;
}

/**
 * A real web server on a real store, whose HIS sends one patient's name as
 * markup, with a folder printer and a nurse and an admin signed in: the
 * ground the security tests attack.
 */
export async function openHostileBox(hostileName: string): Promise<HostileBox> {
  const h = await startHis({ patients: 4, now: new Date() });
  const his = h.server;
  const p = h.hospital.wards[0]!.patients[0]!;
  const fhirPatient = await his.repo.readResource('Patient', p.id);
  await his.repo.updateResource({ ...fhirPatient, name: [{ use: 'official', text: hostileName }] });
  const dir = writeConfigDir(tmpDir(), { baseUrl: his.url, printers: { ward: 'id: ward\nname: Ward printer\nkind: folder\nuri: printed\n' } });
  const a = openTestAgent(dir);
  await addTestUsers(a.db);
  expect((await runJob(a, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
  const app = await buildWebServer({ config: () => a.config, db: a.db, blobs: a.blobs, log: a.log });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    his,
    a,
    app,
    base,
    dir,
    mrn: p.mrn!,
    nurse: await signIn(base, NURSE),
    admin: await signIn(base, ADMIN),
    async close() {
      await app.close();
      await his.close();
    },
  };
}
