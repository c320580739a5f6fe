import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../../agent/demo/fhir-server.js';
import { createRenderPool } from '../../agent/render/render-pool.js';
import type { Renderer } from '../../agent/render/renderer.js';
import { runJob } from '../../agent/schedule/run.js';
import { currentSnapshot } from '../../agent/store/snapshots.js';
import { jobYaml, memoryLogger, openTestAgent, startHis, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';

/**
 * A render thread that throws without a message, loops forever or exits:
 * the run fails with words that say so, within its time limit, the last
 * good snapshot stays current, and the next run starts and succeeds.
 */
let his: FhirTestServer;
let a: TestAgent;
beforeAll(async () => {
  his = (await startHis({ patients: 3 })).server;
  a = openTestAgent(writeConfigDir(tmpDir(), { baseUrl: his.url, jobs: { 'ward-1': jobYaml('ward-1').replace('runTimeoutSeconds: 60', 'runTimeoutSeconds: 8') } }));
  const first = await runJob(a, 'ward-1', { trigger: 'manual' });
  expect(first.status, first.error ?? '').toBe('succeeded');
});
afterAll(async () => {
  await his?.close();
});

/** A pool whose threads start with the fault, then a healthy run on the same pool once the faulty thread is gone. */
async function withFault(fault: string, taskTimeoutMs = 60_000): Promise<{ failed: Awaited<ReturnType<typeof runJob>>; next: Awaited<ReturnType<typeof runJob>>; ms: number; logs: string[] }> {
  const mem = memoryLogger();
  process.env.PAPERBACK_RENDER_FAULT = fault;
  const pool: Renderer = createRenderPool({ threads: 1, taskTimeoutMs, log: mem.log });
  try {
    const good = currentSnapshot(a.db, 'ward-1')!.id;
    const t0 = Date.now();
    const failed = await runJob({ ...a, renderer: pool, log: mem.log }, 'ward-1', { trigger: 'manual' });
    const ms = Date.now() - t0;
    expect(currentSnapshot(a.db, 'ward-1')!.id).toBe(good);
    delete process.env.PAPERBACK_RENDER_FAULT; // threads started from now on are healthy
    const next = await runJob({ ...a, renderer: pool, log: mem.log }, 'ward-1', { trigger: 'manual' });
    return { failed, next, ms, logs: mem.lines };
  } finally {
    delete process.env.PAPERBACK_RENDER_FAULT;
    await pool.close();
  }
}

describe('a render thread that fails', () => {
  it('reports an error thrown without a message in words, never an empty error', async () => {
    const r = await withFault('throw-empty');
    expect(r.failed.status).toBe('failed');
    expect(r.failed.error).toMatch(/Error with no message, at /);
    expect(r.logs.some((l) => l.includes('snapshot run failed') && /no message/.test(l))).toBe(true);
    // The thread threw but lives on, with the fault it read when it started: the next run fails the same way, and says so.
    expect(r.next.status).toBe('failed');
    expect(r.next.error).toMatch(/Error with no message/);
  });

  it('stops a thread stuck in a loop: the run fails within its time limit and the next run succeeds', async () => {
    const r = await withFault('hang', 3000);
    expect(r.failed.status).toBe('failed');
    expect(r.failed.error).toMatch(/did not finish a document within 3 s and was stopped|exceeded its time limit of 8 s/);
    expect(r.ms).toBeLessThan(8000 + 5000);
    expect(r.next.status, r.next.error ?? '').toBe('succeeded');
  });

  it('reports a thread that exits, and starts a new one for the next run', async () => {
    const r = await withFault('exit');
    expect(r.failed.status).toBe('failed');
    expect(r.failed.error).toMatch(/render thread exited \(code 3\) with documents unfinished/);
    expect(r.next.status, r.next.error ?? '').toBe('succeeded');
  });
});
