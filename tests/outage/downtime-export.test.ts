import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../agent/config/load.js';
import { endDowntime, startDowntime } from '../../agent/outage/downtime.js';
import { openDb } from '../../agent/store/db.js';
import { runCli, tmpDir, writeConfigDir } from '../support/fixtures.js';

describe('the downtime record for the insurance office', () => {
  it('`paperback downtime export` lists each downtime: start and end in UTC and local time, how it was detected, who declared and ended it', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:9' });
    const db = openDb(loadConfig(dir).dataDir);
    const a = startDowntime(db, { kind: 'detected', cause: 'HIS unreachable: connection refused' }, new Date('2026-12-01T01:00:00Z'));
    endDowntime(db, a.id, null, 'the HIS answers again', new Date('2026-12-01T03:30:00Z'));
    const b = startDowntime(db, { kind: 'declared', cause: 'ransomware, network cut, "all systems"', declaredBy: 'it.lan' }, new Date('2026-12-03T14:00:00Z'));
    endDowntime(db, b.id, 'it.lan', 'restored', new Date('2026-12-04T02:00:00Z'));
    db.close();
    const r = await runCli(['--config', dir, 'downtime', 'export']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\r\n');
    expect(lines[0]).toBe('site,box,downtime,kind,how_detected,cause,started_utc,started_local,ended_utc,ended_local,minutes,declared_by,ended_by');
    expect(lines[1]).toBe(`test-hospital,test-box,${a.id},detected,detected by the box (the HIS stopped answering),HIS unreachable: connection refused,2026-12-01T01:00:00.000Z,01/12/2026 08:00 (GMT+7),2026-12-01T03:30:00.000Z,01/12/2026 10:30 (GMT+7),150,,`);
    expect(lines[2]).toBe(`test-hospital,test-box,${b.id},declared,declared by a person,"ransomware, network cut, ""all systems""",2026-12-03T14:00:00.000Z,03/12/2026 21:00 (GMT+7),2026-12-04T02:00:00.000Z,04/12/2026 09:00 (GMT+7),720,it.lan,it.lan`);
    const since = await runCli(['--config', dir, 'downtime', 'export', '--since', '2026-12-02']);
    expect(since.stdout.trim().split('\r\n')).toHaveLength(2);
  });
});
