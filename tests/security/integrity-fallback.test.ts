import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { runJob } from '../../agent/schedule/run.js';
import { getArtifact, listSnapshots } from '../../agent/store/snapshots.js';
import { buildWebServer } from '../../agent/web/server.js';
import { openTestAgent, startHis, tmpDir, writeConfigDir } from '../support/fixtures.js';
import { pdfText } from '../support/pdf-text.js';
import { NURSE, addTestUsers, signIn } from '../support/web.js';

/**
 * One damaged file must not take the ward page down: the page falls back to
 * the newest snapshot that reads, says so, and shows its true age; a damaged
 * PDF is served from an earlier snapshot, whose pages carry their own as-of.
 */
let his: FhirTestServer;
beforeAll(async () => {
  ({ server: his } = await startHis({ patients: 3 }));
});
afterAll(async () => {
  await his.close();
});

const damage = (file: string) => {
  const b = fs.readFileSync(file);
  b[Math.floor(b.length / 2)] ^= 0xff;
  fs.writeFileSync(file, b);
};

describe('a damaged stored file', () => {
  it('falls back to the last snapshot that reads, on the page and for a PDF, and says so', async () => {
    const a = openTestAgent(writeConfigDir(tmpDir(), { baseUrl: his.url }));
    const first = new Date('2026-11-22T01:00:00Z');
    const second = new Date('2026-11-22T02:00:00Z');
    expect((await runJob({ ...a, now: () => first }, 'ward-1', { trigger: 'manual' })).status).toBe('succeeded');
    const o = await runJob({ ...a, now: () => second }, 'ward-1', { trigger: 'manual' });
    expect(o.status).toBe('succeeded');
    // The newest snapshot's ward data and census PDF are damaged on disk.
    damage(a.blobs.pathOf(getArtifact(a.db, o.snapshotId!, 'data/ward')!.sha256));
    damage(a.blobs.pathOf(getArtifact(a.db, o.snapshotId!, 'census')!.sha256));
    await addTestUsers(a.db);
    const app = await buildWebServer({ config: () => a.config, db: a.db, blobs: a.blobs, log: a.log });
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      const nurse = await signIn(base, NURSE);
      const page = await nurse.fetch('/ward/ward-1?lang=en');
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('The newest snapshot failed its integrity check and is not shown: this is the snapshot of 22/11/2026 08:00');
      // An open page's live update tells the age of the snapshot shown, not of the damaged newer one.
      const live = (await (await nurse.fetch('/api/live/ward-1?lang=en')).json()) as { freshness: { text: string } };
      expect(live.freshness.text).toContain('22/11/2026 08:00');
      expect(live.freshness.text).not.toContain('22/11/2026 09:00');
      const pdf = await nurse.fetch('/documents/ward-1/census.pdf');
      expect(pdf.status).toBe(200);
      // The older copy, which says its own age on every page.
      expect(pdfText(Buffer.from(await pdf.arrayBuffer())).text).toContain('Data as of 22/11/2026 08:00');
      // With every copy damaged, the box says so rather than serve anything.
      for (const s of listSnapshots(a.db, 'ward-1')) if (s.id !== o.snapshotId) damage(a.blobs.pathOf(getArtifact(a.db, s.id, 'census')!.sha256));
      const none = await nurse.fetch('/documents/ward-1/census.pdf');
      expect(none.status).toBe(500);
      expect(await none.text()).toMatch(/failed its integrity check/);
    } finally {
      await app.close();
      a.db.close();
    }
  }, 60_000);
});
