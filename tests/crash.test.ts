import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FhirTestServer } from '../agent/demo/fhir-server.js';
import { NURSE, signIn } from './support/web.js';
import { jobYaml, runByHandOnly, runCli, spawnUntil, startHis, tmpDir, writeConfigDir } from './support/fixtures.js';

let server: FhirTestServer;
let dir: string;
beforeAll(async () => {
  ({ server } = await startHis({ patients: 8 }));
  dir = writeConfigDir(tmpDir(), { baseUrl: server.url, jobs: { 'ward-1': runByHandOnly(jobYaml('ward-1')) } });
  const added = await runCli(['--config', dir, 'user', 'add', NURSE.username, '--role', 'nurse', '--password-stdin'], { stdin: `${NURSE.password}\n` });
  expect(added.code, added.stderr).toBe(0);
});
afterAll(async () => {
  await server.close();
});

const status = async () => JSON.parse((await runCli(['--config', dir, 'status', '--json'])).stdout) as { jobs: { current: { snapshotId: number } | null; lastRun: { status: string } | null }[] };

async function fetchCensus(): Promise<{ status: number; sha: string; type: string | null }> {
  const { child, output } = await spawnUntil(['--config', dir, 'serve', '--port', '0'], /serving on http:\/\/[^\s]+/);
  try {
    const url = /serving on (http:\/\/[^\s]+)/.exec(output())![1]!;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const nurse = await signIn(url, NURSE);
    const res = await nurse.fetch('/documents/ward-1/census.pdf');
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, sha: createHash('sha256').update(body).digest('hex'), type: res.headers.get('content-type') };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
}

describe('crash safety', () => {
  it('a run killed with SIGKILL at any point mid-write leaves the store consistent and the previous snapshot served', async () => {
    const first = await runCli(['--config', dir, 'run', 'ward-1']);
    expect(first.code, first.stderr).toBe(0);
    const good = (await status()).jobs[0]!.current!.snapshotId;
    const before = await fetchCensus();
    expect(before.status).toBe(200);
    expect(before.type).toBe('application/pdf');

    for (const point of ['after-staging', 'blob-written-0', 'artifact-0', 'blob-written-5', 'artifact-7', 'before-publish']) {
      const { child } = await spawnUntil(['--config', dir, 'run', 'ward-1'], `PAPERBACK_FAULT_PAUSED ${point}`, { env: { PAPERBACK_FAULT_PAUSE: point } });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      const v = await runCli(['--config', dir, 'verify']);
      expect(v.code, `verify after a kill at ${point}:\n${v.stdout}${v.stderr}`).toBe(0);
      expect(v.stdout).toMatch(/store OK/);
      expect((await status()).jobs[0]!.current!.snapshotId, `current after a kill at ${point}`).toBe(good);
    }
    // The same bytes are still served after all those crashes.
    const after = await fetchCensus();
    expect(after).toEqual(before);

    // The next run marks the killed runs as interrupted and publishes normally.
    const next = await runCli(['--config', dir, 'run', 'ward-1']);
    expect(next.code, next.stderr).toBe(0);
    const s = await status();
    expect(s.jobs[0]!.current!.snapshotId).toBeGreaterThan(good);
    const v = await runCli(['--config', dir, 'verify', '--json']);
    const report = JSON.parse(v.stdout) as { ok: boolean; problems: { severity: string; what: string }[] };
    expect(report.ok).toBe(true);
    expect(report.problems.filter((p) => p.severity === 'error')).toEqual([]);
    // About twenty CLI processes, each starting Node: on two busy cores that can pass a minute.
  }, 180_000);

  it('a kill after the publish leaves the new snapshot current and consistent', async () => {
    const { child } = await spawnUntil(['--config', dir, 'run', 'ward-1'], 'PAPERBACK_FAULT_PAUSED after-publish', { env: { PAPERBACK_FAULT_PAUSE: 'after-publish' } });
    const beforeKill = (await status()).jobs[0]!.current!.snapshotId;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    const v = await runCli(['--config', dir, 'verify']);
    expect(v.code, v.stdout).toBe(0);
    expect((await status()).jobs[0]!.current!.snapshotId).toBe(beforeKill);
    expect((await fetchCensus()).status).toBe(200);
  });
});
