import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declareDowntime } from '../../agent/outage/downtime.js';
import { startOutageMonitor } from '../../agent/outage/monitor.js';
import { printerStatusCache } from '../../agent/print/status-cache.js';
import { runJob } from '../../agent/schedule/run.js';
import { buildWebServer } from '../../agent/web/server.js';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { openTestAgent, startHis, tmpDir, writeConfigDir } from '../support/fixtures.js';
import { ADMIN, addTestUsers, signIn } from '../support/web.js';

/**
 * What the box says to someone who has not signed in, and what it lets caches
 * keep: /api/status is public for monitoring but names no one and gives no
 * reason; no response carrying ward data may be cached.
 */
let his: FhirTestServer;
beforeAll(async () => {
  ({ server: his } = await startHis({ patients: 2 }));
});
afterAll(async () => {
  await his.close();
});

describe('status and caching', () => {
  it('tells an anonymous monitor that a downtime runs, not who declared it or why; and marks every answer no-store', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: his.url });
    const a = openTestAgent(dir);
    expect((await runJob(a, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
    const monitor = startOutageMonitor({ db: a.db, blobs: a.blobs, config: () => a.config, sources: a.sources, log: a.log, printers: printerStatusCache(() => a.config.printers, dir), runJobs: () => {} });
    declareDowntime(a.db, 'it.lan', 'Ransomware on the HIS servers, call extension 4411', new Date());
    await monitor.tick();
    await addTestUsers(a.db);
    const app = await buildWebServer({ config: () => a.config, db: a.db, blobs: a.blobs, log: a.log, outage: monitor });
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      const anonymous = await fetch(`${base}/api/status`);
      const body = await anonymous.text();
      expect(JSON.parse(body).outage.downtime).toMatchObject({ kind: 'declared', startedAt: expect.any(String) });
      expect(body).not.toContain('Ransomware');
      expect(body).not.toContain('it.lan');
      expect(anonymous.headers.get('cache-control')).toBe('no-store');
      // IT, signed in, sees the whole story.
      const admin = await signIn(base, ADMIN);
      expect(await (await admin.fetch('/api/status')).text()).toContain('Ransomware on the HIS servers');
      for (const url of ['/api/status', '/api/print-jobs', '/api/jobs/ward-1/documents', '/api/admin', '/healthz', '/documents/ward-1/census.pdf']) {
        const res = await admin.fetch(url);
        expect(res.status, url).toBe(200);
        expect(res.headers.get('cache-control'), url).toBe('no-store');
      }
      expect((await fetch(`${base}/static/style.css`)).headers.get('cache-control')).toBe('max-age=300');
    } finally {
      await app.close();
      await monitor.stop();
      a.db.close();
    }
  }, 60_000);
});
