import type { Logger } from 'pino';
import type { Db } from '../store/db.js';
import { appendAudit } from '../audit/log.js';
import { addUser, getUser } from './users.js';
import { setBreakGlassCode, breakGlassConfigured } from './break-glass.js';

/**
 * The demo's published accounts (README): only when paperback.yaml says
 * auth.demoAccounts: true, which a real box never does.
 */
export const DEMO_ACCOUNTS = [
  { username: 'nurse', password: 'ward3a-demo', role: 'nurse', displayName: 'Demo Nurse · Điều dưỡng demo' },
  { username: 'admin', password: 'paperback-it-demo', role: 'admin', displayName: 'Demo IT admin' },
] as const;
export const DEMO_BREAK_GLASS_CODE = '3A-DOWNTIME';

export async function ensureDemoAccounts(db: Db, log: Logger): Promise<void> {
  for (const a of DEMO_ACCOUNTS) {
    if (getUser(db, a.username)) continue;
    await addUser(db, { username: a.username, displayName: a.displayName, role: a.role, password: a.password });
    appendAudit(db, { actor: 'system:demo', action: 'user-added', subject: a.username, detail: { role: a.role, demo: true } });
  }
  if (!breakGlassConfigured(db)) {
    await setBreakGlassCode(db, DEMO_BREAK_GLASS_CODE);
    appendAudit(db, { actor: 'system:demo', action: 'break-glass-code-set', subject: null, detail: { demo: true } });
  }
  log.warn({ accounts: DEMO_ACCOUNTS.map((a) => a.username) }, 'demo accounts with published passwords are enabled (auth.demoAccounts); never on a real ward box');
}
