import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { endDowntime, startDowntime } from '../../agent/outage/downtime.js';
import { effectiveEntries, entryCounts, listEntries, moveEntry, recordEntry } from '../../agent/store/downtime-entries.js';
import { openDb } from '../../agent/store/db.js';
import { collectGarbage } from '../../agent/store/retention.js';
import { jobYaml, openTestAgent, tmpDir, writeConfigDir, type TestAgent } from '../support/fixtures.js';

/**
 * Downtime entries on a real SQLite file and a real sealed blob store: the
 * rules of issue #25 that must hold before any page or file-back uses them.
 */
const T0 = new Date('2026-11-22T01:00:00Z'); // 08:00 in Hà Nội
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

describe('downtime entries', () => {
  const agents: TestAgent[] = [];
  afterEach(() => {
    for (const a of agents.splice(0)) a.db.close();
  });
  function setup() {
    const a = openTestAgent(writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:9/fhir', jobs: { 'ward-1': jobYaml('ward-1') } }));
    agents.push(a);
    const dt = startDowntime(a.db, { kind: 'declared', cause: 'ransomware' }, T0);
    const record = (payload: unknown, o: { minutes?: number; now?: number; patient?: string; corrects?: { id: number; reason: string } } = {}) =>
      recordEntry(a.db, a.blobs, { jobId: 'ward-1', patient: o.patient ?? 'BV001', occurredAt: at(o.minutes ?? 30).toISOString(), payload, ...(o.corrects ? { corrects: o.corrects } : {}) }, { downtime: dt, by: 'lan.nguyen', marginMinutes: 60, now: at(o.now ?? 35) });
    return { a, dt, record };
  }
  const given = { kind: 'administration', orderId: 'o-1', drug: 'Paracetamol 500 mg', outcome: 'given' };

  it('records what happened, when it happened and when and by whom it was entered, sealed at rest', () => {
    const { a, record } = setup();
    const e = record({ ...given, dose: '1 g' }, { minutes: 5, now: 40 });
    expect(e).toMatchObject({ kind: 'administration', state: 'pending', occurredAt: at(5).toISOString(), enteredAt: at(40).toISOString(), enteredBy: 'lan.nguyen', correctsId: null });
    expect(e.uid).toMatch(/^[0-9a-f-]{36}$/);
    const [listed] = listEntries(a.db, a.blobs, { jobId: 'ward-1', patient: 'BV001' });
    expect(listed!.payload).toMatchObject({ drug: 'Paracetamol 500 mg', dose: '1 g', outcome: 'given' });
    // The file on disk does not say what it holds.
    const file = fs.readdirSync(a.blobs.dir, { recursive: true }).map(String).find((f) => f.includes(e.recordSha256))!;
    expect(fs.readFileSync(path.join(a.blobs.dir, file)).toString('latin1')).not.toContain('Paracetamol');
  });

  it('refuses, with the reason, an entry that cannot be right', () => {
    const { record } = setup();
    expect(() => record({ ...given, outcome: 'held' })).toThrow(/reason: a dose held, refused or not given needs its reason/);
    expect(() => record({ kind: 'vitals', systolic: 120 })).toThrow(/a blood pressure needs both its numbers/);
    expect(() => record({ kind: 'vitals', systolic: 80, diastolic: 120 })).toThrow(/systolic pressure must be above the diastolic/);
    expect(() => record({ kind: 'vitals', pulse: 900 })).toThrow(/pulse/);
    expect(() => record({ kind: 'vitals' })).toThrow(/at least one vital sign/);
    expect(() => record({ kind: 'transfer' })).toThrow(/the bed or the ward/);
    expect(() => record({ kind: 'surgery' })).toThrow();
    expect(() => record(given, { minutes: 50, now: 40 })).toThrow(/in the future/);
    expect(() => record(given, { minutes: -90 })).toThrow(/more than 60 min before the downtime began/);
    // Within the margin before the downtime is fine (the HIS went slow before it went down).
    expect(record(given, { minutes: -30 }).state).toBe('pending');
  });

  it('is append-only: a correction names what it corrects and why, and the old entry stays', () => {
    const { a, record } = setup();
    const wrong = record({ kind: 'vitals', temperatureC: 39.8 }, { minutes: 10 });
    expect(() => record({ kind: 'vitals', temperatureC: 38.9 }, { corrects: { id: wrong.id, reason: ' ' } })).toThrow(/needs its reason/);
    expect(() => record({ kind: 'vitals', temperatureC: 38.9 }, { patient: 'BV002', corrects: { id: wrong.id, reason: 'typo' } })).toThrow(/another patient's/);
    expect(() => record({ kind: 'vitals', temperatureC: 38.9 }, { corrects: { id: 999, reason: 'typo' } })).toThrow(/no entry 999/);
    const fixed = record({ kind: 'vitals', temperatureC: 38.9 }, { minutes: 10, corrects: { id: wrong.id, reason: 'typed 39.8 for 38.9' } });
    const all = listEntries(a.db, a.blobs, { jobId: 'ward-1', patient: 'BV001' });
    expect(all.map((e) => [e.id, e.correctedBy])).toEqual([
      [wrong.id, fixed.id],
      [fixed.id, null],
    ]);
    expect(effectiveEntries(all).map((e) => e.payload)).toEqual([{ kind: 'vitals', temperatureC: 38.9 }]);
    expect(fixed.correctionReason).toBe('typed 39.8 for 38.9');
    // No way to change or remove a row in place: there is no such function, and the database refuses a correction without a reason.
    expect(() => a.db.prepare('UPDATE downtime_entries SET correction_reason = NULL WHERE id = ?').run(fixed.id)).toThrow(/CHECK constraint/);
  });

  it('after the downtime ends, refuses entries too long after it, and files each entry once', () => {
    const { a, dt, record } = setup();
    const e = record(given, { minutes: 20 });
    endDowntime(a.db, dt.id, 'it.admin', 'HIS back', at(120));
    const ended = { ...dt, endedAt: at(120).toISOString() };
    expect(() => recordEntry(a.db, a.blobs, { jobId: 'ward-1', patient: 'BV001', occurredAt: at(200).toISOString(), payload: given }, { downtime: ended, by: 'lan.nguyen', marginMinutes: 60, now: at(210) })).toThrow(/more than 60 min after the downtime ended/);
    // A back-entry of something that happened during it is still taken after the end.
    expect(recordEntry(a.db, a.blobs, { jobId: 'ward-1', patient: 'BV001', occurredAt: at(100).toISOString(), payload: { kind: 'note', text: 'Người nhà đã báo' } }, { downtime: ended, by: 'lan.nguyen', marginMinutes: 60, now: at(130) }).state).toBe('pending');
    // Filing: from pending or failed only; filed once, never undone.
    expect(moveEntry(a.db, e.id, 'fail', { now: at(130), error: 'HIS 503' })).toBe(true);
    expect(moveEntry(a.db, e.id, 'retry', { now: at(131) })).toBe(true);
    expect(moveEntry(a.db, e.id, 'file', { now: at(132), ref: 'MedicationAdministration/abc' })).toBe(true);
    expect(moveEntry(a.db, e.id, 'file', { now: at(133), ref: 'MedicationAdministration/def' })).toBe(false);
    expect(moveEntry(a.db, e.id, 'retry', { now: at(133) })).toBe(false);
    expect(moveEntry(a.db, e.id, 'conflict', { now: at(133) })).toBe(false);
    const [row] = listEntries(a.db, a.blobs, { jobId: 'ward-1', patient: 'BV001' }).filter((x) => x.id === e.id);
    expect(row).toMatchObject({ state: 'filed', filedRef: 'MedicationAdministration/abc', attempts: 2, lastError: 'HIS 503' });
    expect(entryCounts(a.db, dt.id)).toEqual({ pending: 1, filed: 1, failed: 0, rejected: 0, 'needs-person': 0 });
  });

  it('two processes recording and filing at once: every entry kept once, each filed by one of them', async () => {
    const { a, dt } = setup();
    const other = openDb(a.config.dataDir);
    try {
      const both = [a.db, other];
      const ids: number[] = [];
      for (let i = 0; i < 40; i++) {
        const db = both[i % 2]!;
        ids.push(recordEntry(db, a.blobs, { jobId: 'ward-1', patient: `BV${i % 5}`, occurredAt: at(i).toISOString(), payload: { kind: 'vitals', pulse: 60 + i } }, { downtime: dt, by: `nurse-${i % 2}`, marginMinutes: 60, now: at(45) }).id);
      }
      expect(new Set(ids).size).toBe(40);
      const uids = a.db.prepare('SELECT uid FROM downtime_entries').pluck().all() as string[];
      expect(new Set(uids).size).toBe(40);
      // Both try to file every entry: each is filed exactly once.
      let wins = 0;
      for (const id of ids) for (const db of both) if (moveEntry(db, id, 'file', { now: at(200), ref: `x/${id}` })) wins++;
      expect(wins).toBe(40);
    } finally {
      other.close();
    }
  });

  it('garbage collection keeps every entry\u2019s sealed record', () => {
    const { a, record } = setup();
    const e = record({ kind: 'note', text: 'Bệnh nhân tỉnh, ăn được' });
    collectGarbage(a.db, a.blobs, { strays: true });
    expect(a.blobs.has(e.recordSha256)).toBe(true);
    expect(listEntries(a.db, a.blobs, { jobId: 'ward-1' })[0]!.payload).toEqual({ kind: 'note', text: 'Bệnh nhân tỉnh, ăn được' });
  });
});
