import { describe, expect, it } from 'vitest';
import { createSession, lookupSession } from '../../agent/auth/sessions.js';
import { openDb } from '../../agent/store/db.js';
import { tmpDir } from '../support/fixtures.js';

/** A short idle limit signs out the idle, never the active: against a real SQLite store. */
describe('session idle time', () => {
  it('keeps a nurse active every 30 s signed in under a 1-minute idle limit, and signs her out after a minute away', () => {
    const db = openDb(tmpDir('pb-sessions-'));
    try {
      const policy = { idleMinutes: 1, maxHours: 12 };
      const t0 = Date.parse('2026-11-22T03:00:00Z');
      const token = createSession(db, { actor: 'lan.nguyen', role: 'nurse', auth: 'local' }, policy, new Date(t0));
      for (let s = 30; s <= 600; s += 30) expect(lookupSession(db, token, policy, new Date(t0 + s * 1000)).ok, `active at ${s} s`).toBe(true);
      const away = lookupSession(db, token, policy, new Date(t0 + 600_000 + 61_000));
      expect(away).toMatchObject({ ok: false, reason: 'idle' });
    } finally {
      db.close();
    }
  });
});
