import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lifecycle } from '../agent/cli/lifecycle.js';
import { REPO, memoryLogger, spawnUntil, tmpDir } from './support/fixtures.js';
import { HAVE_IPPEVEPRINTER } from './support/printers.js';

/** The processes whose parent is `pid`, with their command names. */
const childrenOf = (pid: number): { pid: number; comm: string }[] =>
  execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').filter((l) => l.trim()).map((l) => {
    const [p, comm] = l.trim().split(/\s+/);
    return { pid: Number(p), comm: comm! };
  });
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('serve’s lifecycle', () => {
  it('stops every part in reverse order, going on past one that fails and one that hangs', async () => {
    const mem = memoryLogger();
    const life = lifecycle(mem.log, { stopTimeoutMs: 300 });
    const stopped: string[] = [];
    life.started('store', null, () => stopped.push('store'));
    life.started('printer', null, () => new Promise(() => undefined)); // never stops
    life.started('scheduler', null, () => {
      throw new Error('scheduler would not stop');
    });
    life.started('web', null, async () => void stopped.push('web'));
    const failed = await life.stopAll();
    expect(stopped).toEqual(['web', 'store']);
    expect(failed).toEqual(['scheduler', 'printer']);
    expect(mem.lines.filter((l) => l.includes('did not stop cleanly'))).toHaveLength(2);
    expect(mem.lines.some((l) => l.includes('did not stop within 0.3 s'))).toBe(true);
  });

  it.skipIf(!HAVE_IPPEVEPRINTER)('takes its demo printer with it even when SIGKILLed, and stops cleanly on SIGTERM', { timeout: 90_000 }, async () => {
    const dir = path.join(tmpDir('pb-serve-'), 'demo');
    fs.cpSync(path.join(REPO, 'demo'), dir, { recursive: true, filter: (src) => !['templates', 'data'].includes(path.basename(src)) });
    const first = await spawnUntil(['--config', dir, 'serve', '--port', '0'], /serving on/, { timeoutMs: 60_000 });
    const printer = childrenOf(first.child.pid!).find((c) => c.comm === 'ippeveprinter');
    expect(printer, 'the demo printer runs as a child of serve').toBeDefined();
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const until = Date.now() + 5000;
    while (alive(printer!.pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(alive(printer!.pid)).toBe(false);

    // Started again on the same folder: its printer starts, and SIGTERM ends everything within bounds.
    const second = await spawnUntil(['--config', dir, 'serve', '--port', '0'], /serving on/, { timeoutMs: 60_000 });
    const printer2 = childrenOf(second.child.pid!).find((c) => c.comm === 'ippeveprinter');
    expect(printer2).toBeDefined();
    const t0 = Date.now();
    second.child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => second.child.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(alive(printer2!.pid)).toBe(false);
    expect(second.output()).not.toContain('did not stop cleanly');
  });
});
