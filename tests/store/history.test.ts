import { describe, expect, it } from 'vitest';
import { appendAudit } from '../../agent/audit/log.js';
import { openDb } from '../../agent/store/db.js';
import { pruneHistory } from '../../agent/store/history.js';
import { tmpDir } from '../support/fixtures.js';

/**
 * A month of history is kept, not more, and nothing still needed goes:
 * checked on a real SQLite store with rows two months old and a day old in
 * every table the box grows.
 */
const NOW = new Date('2026-12-04T12:00:00Z');
const old = '2026-10-01T00:00:00.000Z';
const recent = '2026-12-03T00:00:00.000Z';

describe('pruning the box’s own history', () => {
  it('removes what is older than keepDays and keeps what is still in use or recent, never the audit log', () => {
    const db = openDb(tmpDir());
    const run = (at: string, status: string) => Number(db.prepare("INSERT INTO job_runs (job_id, trigger, started_at, status, pid) VALUES ('w', 'schedule', ?, ?, 1)").run(at, status).lastInsertRowid);
    const oldRun = run(old, 'failed');
    const oldRunWithSnapshot = run(old, 'succeeded');
    run(recent, 'succeeded');
    run(old, 'running');
    db.prepare("INSERT INTO snapshots (job_id, run_id, status, source_id, created_at) VALUES ('w', ?, 'published', 'his', ?)").run(oldRunWithSnapshot, old);
    // A failed run's empty snapshot goes after a day, and its run with it.
    db.prepare("INSERT INTO snapshots (job_id, run_id, status, source_id, created_at) VALUES ('w', ?, 'failed', 'his', ?)").run(run(old, 'failed'), old);
    const job = (at: string, state: string) => {
      const id = Number(db.prepare("INSERT INTO print_jobs (sha256, address, job_name, printer_id, current_printer_id, requested_by, state, created_at, updated_at) VALUES ('x', 'w/census', 'n', 'p', 'p', 'nurse', ?, ?, ?)").run(state, at, at).lastInsertRowid);
      db.prepare("INSERT INTO print_job_events (print_job_id, at, state) VALUES (?, ?, ?)").run(id, at, state);
    };
    job(old, 'completed');
    job(old, 'queued'); // still waiting for a printer: never pruned
    job(recent, 'completed');
    db.prepare("INSERT INTO outage_events (at, scope, to_state, cause) VALUES (?, 'box', 'offline', 'x'), (?, 'box', 'online', 'y')").run(old, recent);
    const hl7 = (id: string, at: string, status: string) => db.prepare("INSERT INTO hl7_messages (source_id, control_id, sender, event_type, event_time, received_at, mrn, raw, status) VALUES ('adt', ?, 's', 'A01', ?, ?, 'M', x'00', ?)").run(id, at, at, status);
    hl7('1', old, 'applied');
    hl7('2', old, 'stored'); // acknowledged, not yet applied
    hl7('3', recent, 'applied');
    db.prepare("INSERT INTO hl7_quarantine (source_id, received_at, peer, ack_code, reason, raw) VALUES ('adt', ?, 'p', 'AE', 'r', x'00'), ('adt', ?, 'p', 'AE', 'r', x'00')").run(`${old}#a`, `${recent}#b`);
    const adt = (mrn: string, status: string) => db.prepare("INSERT INTO adt_patients (source_id, mrn, status, last_event_time, data, updated_at) VALUES ('adt', ?, ?, ?, x'00', ?)").run(mrn, status, old, old);
    adt('GONE', 'discharged');
    adt('IN', 'admitted');
    adt('RETIRED', 'merged');
    db.prepare("INSERT INTO sessions (token_hash, actor, role, auth, created_at, last_seen_at, expires_at) VALUES ('a', 'n', 'nurse', 'local', ?, ?, ?)").run(old, old, old);
    appendAudit(db, { actor: 'n', action: 'view', subject: 'w/census' }, new Date(old));

    const pruned = pruneHistory(db, 31, NOW);
    expect(pruned).toEqual({ failedSnapshots: 1, jobRuns: 2, printJobs: 1, outageEvents: 1, declarations: 0, hl7Messages: 1, hl7Quarantine: 1, adtPatients: 1, sessions: 1 });
    const ids = (sql: string) => db.prepare(sql).pluck().all();
    expect(ids('SELECT id FROM job_runs ORDER BY id')).not.toContain(oldRun);
    expect(ids('SELECT id FROM job_runs ORDER BY id')).toContain(oldRunWithSnapshot);
    expect(ids('SELECT state FROM print_jobs ORDER BY id')).toEqual(['queued', 'completed']);
    expect(db.prepare('SELECT COUNT(*) FROM print_job_events').pluck().get()).toBe(2);
    expect(ids('SELECT control_id FROM hl7_messages ORDER BY control_id')).toEqual(['2', '3']);
    expect(ids('SELECT mrn FROM adt_patients ORDER BY mrn')).toEqual(['IN', 'RETIRED']);
    expect(db.prepare('SELECT COUNT(*) FROM audit_log').pluck().get()).toBe(1);
    // Once more changes nothing.
    expect(Object.values(pruneHistory(db, 31, NOW)).every((n) => n === 0)).toBe(true);
  });
});
