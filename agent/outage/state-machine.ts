/**
 * The link state of one central system, as a pure function of evidence over
 * time. Hysteresis on both edges: going offline needs several failures over a
 * confirmation delay (a lost packet is not an outage); coming back needs
 * several successes over a recovery delay (a flapping link is not a recovery).
 *
 *   online ──fail──► degraded ──N fails over confirm──► offline
 *     ▲                 │ok                               │ok
 *     └─────────────────┘        recovering ◄─────────────┘
 *     ▲                               │ fail → offline
 *     └──M oks over recover delay─────┘
 */

export type LinkState = 'online' | 'degraded' | 'offline' | 'recovering';

export interface Thresholds {
  /** Consecutive failures before an outage can be confirmed. */
  failuresToOffline: number;
  /** And at least this long since the first failure. */
  confirmSeconds: number;
  /** Consecutive successes before the link counts as back. */
  successesToOnline: number;
  /** And at least this long since the first success. */
  recoverSeconds: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { failuresToOffline: 3, confirmSeconds: 60, successesToOnline: 3, recoverSeconds: 60 };

export interface Link {
  state: LinkState;
  since: string;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** Start of the current run of failures or successes. */
  runStartedAt: string | null;
  lastError: string | null;
}

export const initialLink = (now: Date): Link => ({ state: 'online', since: now.toISOString(), consecutiveFailures: 0, consecutiveSuccesses: 0, runStartedAt: null, lastError: null });

export interface Evidence {
  ok: boolean;
  /** Why it failed (or "probe ok"); recorded as the cause of a transition. */
  detail: string;
  at: Date;
}

export interface Step {
  link: Link;
  transition: { from: LinkState; to: LinkState; cause: string } | null;
}

const secondsSince = (iso: string | null, now: Date) => (iso ? (now.getTime() - new Date(iso).getTime()) / 1000 : 0);

export function step(link: Link, e: Evidence, t: Thresholds): Step {
  const now = e.at;
  const iso = now.toISOString();
  const next: Link = { ...link };
  if (e.ok) {
    next.consecutiveSuccesses = link.consecutiveSuccesses + 1;
    if (link.consecutiveSuccesses === 0) next.runStartedAt = iso;
    next.consecutiveFailures = 0;
  } else {
    next.consecutiveFailures = link.consecutiveFailures + 1;
    if (link.consecutiveFailures === 0) next.runStartedAt = iso;
    next.consecutiveSuccesses = 0;
    next.lastError = e.detail;
  }
  let to: LinkState = link.state;
  let cause = '';
  switch (link.state) {
    case 'online':
      if (!e.ok) [to, cause] = ['degraded', `probe failed: ${e.detail}`];
      break;
    case 'degraded':
      if (e.ok) [to, cause] = ['online', 'probe succeeded again before the outage was confirmed'];
      else if (next.consecutiveFailures >= t.failuresToOffline && secondsSince(next.runStartedAt, now) >= t.confirmSeconds)
        [to, cause] = ['offline', `${next.consecutiveFailures} failures over ${Math.round(secondsSince(next.runStartedAt, now))} s: ${e.detail}`];
      break;
    case 'offline':
      if (e.ok) [to, cause] = ['recovering', 'probe succeeded; waiting for the link to stay up'];
      break;
    case 'recovering':
      if (!e.ok) [to, cause] = ['offline', `failed again while recovering: ${e.detail}`];
      else if (next.consecutiveSuccesses >= t.successesToOnline && secondsSince(next.runStartedAt, now) >= t.recoverSeconds)
        [to, cause] = ['online', `${next.consecutiveSuccesses} successes over ${Math.round(secondsSince(next.runStartedAt, now))} s`];
      break;
  }
  if (to === link.state) return { link: next, transition: null };
  next.state = to;
  next.since = iso;
  return { link: next, transition: { from: link.state, to, cause } };
}

const SEVERITY: Record<LinkState, number> = { online: 0, degraded: 1, recovering: 2, offline: 3 };

/** The box is as bad as its worst source. */
export function worst(states: LinkState[]): LinkState {
  return states.reduce<LinkState>((w, s) => (SEVERITY[s] > SEVERITY[w] ? s : w), 'online');
}
