import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { freePort } from '../../agent/demo/ipp-printer.js';
import { openDb } from '../../agent/store/db.js';
import { runCli, spawnUntil } from '../support/fixtures.js';
import { HAVE_MLLP_SEND, adt, hl7ConfigDir, send } from '../support/hl7.js';
import path from 'node:path';

/**
 * One applier per HL7 message across processes: `serve` receives and applies
 * while `paperback run` (which applies what is pending before it reads the
 * census) runs beside it, again and again, as mllp_send streams. Every
 * acknowledged message ends applied exactly once (no message left stored,
 * none refused), and the census is what the messages say.
 */
describe.skipIf(!HAVE_MLLP_SEND)('an ADT feed with serve and `run` side by side', () => {
  let serve: ChildProcess | null = null;
  afterAll(() => {
    serve?.kill('SIGKILL');
  });

  it('applies every message once while both processes apply', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const dir = hl7ConfigDir({ port });
    serve = (await spawnUntil(['--config', dir, 'serve', '--port', '0'], /serving on/, { timeoutMs: 60_000 })).child;
    // 40 patients admitted, then each transferred twice and 10 discharged: 130 messages in event order.
    const messages: string[] = [];
    let minute = 0;
    for (let i = 0; i < 40; i++) messages.push(adt({ id: `A${i}`, type: 'A01', minute: minute++, mrn: `BV${i}`, name: `Lê^Lan${i}`, bed: `3A^${100 + i}^1` }));
    for (const round of [1, 2]) for (let i = 0; i < 40; i++) messages.push(adt({ id: `T${round}-${i}`, type: 'A02', minute: minute++, mrn: `BV${i}`, name: `Lê^Lan${i}`, bed: `3A^${100 + i}^${round + 1}` }));
    for (let i = 0; i < 10; i++) messages.push(adt({ id: `D${i}`, type: 'A03', minute: minute++, mrn: `BV${i}`, name: `Lê^Lan${i}`, bed: `3A^${100 + i}^3` }));
    // One connection, in order, as an engine sends.
    const sending = send(port, messages);
    // Meanwhile `run` applies pending messages from its own process, over and over.
    const runs: Promise<{ code: number | null; stderr: string }>[] = [];
    for (let r = 0; r < 4; r++) {
      runs.push(runCli(['--config', dir, 'run', 'ward-3a']));
      await new Promise((res) => setTimeout(res, 400));
    }
    const sent = await sending;
    expect(sent.acks.map((a) => a.code)).toEqual(Array(messages.length).fill('AA'));
    // Each run publishes, or finds the job held by another run (exit 4, busy); none fails.
    for (const r of await Promise.all(runs)) expect([0, 4], r.stderr).toContain(r.code);
    const final = await runCli(['--config', dir, 'run', 'ward-3a']);
    expect(final.code, final.stderr).toBe(0);
    expect(final.stdout).toMatch(/30 patients/);
    const db = openDb(path.join(dir, 'data'));
    try {
      const byStatus = db.prepare('SELECT status, COUNT(*) AS n FROM hl7_messages GROUP BY status').all();
      expect(byStatus).toEqual([{ status: 'applied', n: messages.length }]);
      const beds = db.prepare("SELECT bed FROM adt_patients WHERE status = 'admitted' ORDER BY mrn").pluck().all() as string[];
      expect(beds).toHaveLength(30);
      expect(beds.every((b) => b.endsWith('-3'))).toBe(true);
    } finally {
      db.close();
    }
  });
});
