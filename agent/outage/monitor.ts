import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import { loadTranslations } from '../render/i18n.js';
import { autoPrintForDowntime } from './downtime-pack.js';
import { downtimeSummaryDocument } from '../render/downtime-summary.js';
import { inThreadRenderer, type Renderer } from '../render/renderer.js';
import type { BlobStore } from '../store/blobs.js';
import { nowIso, type Db } from '../store/db.js';
import type { Source } from '../sources/types.js';
import {
  activeDowntime,
  endDowntime,
  getDowntime,
  lastEndedDeclaration,
  openDeclaration,
  saveSummary,
  startDowntime,
  summaryData,
  type DowntimeKind,
  type DowntimeRow,
} from './downtime.js';
import { probeSource, type ProbeResult } from './probes.js';
import { initialLink, step, worst, type Link, type LinkState, type Thresholds } from './state-machine.js';
import { activeOccurrence, nextOccurrence } from './windows.js';
import { computeReadiness, type Readiness } from './readiness.js';
import type { PrinterStatusCache } from '../print/status-cache.js';
import type { RunOutcome } from '../schedule/run.js';
import { errorFields } from '../log/errors.js';

const emptyCache: PrinterStatusCache = { refresh: async () => {}, get: () => null, all: () => new Map() };

export interface Clock {
  now(): Date;
}

export interface OutageDeps {
  db: Db;
  blobs: BlobStore;
  config: () => LoadedConfig;
  sources: Map<string, Source>;
  log: Logger;
  clock?: Clock;
  /** Start snapshot runs (pre-window). */
  runJobs: (jobIds: string[], trigger: 'pre-window') => void;
  /** Wake the print worker after queueing the downtime pack. */
  kickPrinter?: () => void;
  /** Live printer states, refreshed every round for readiness and the pages. */
  printers?: PrinterStatusCache;
  /** Probe a source; tests may replace it, the default asks the real system. */
  probe?: (sourceId: string) => Promise<ProbeResult>;
  /** Draws the downtime summary; this thread when not given. */
  renderer?: Renderer;
}

export interface OutageStatus {
  box: LinkState;
  sources: Record<string, Link>;
  downtime: DowntimeRow | null;
  nextWindow: { id: string; title: string; start: string; end: string } | null;
  clockSkewSeconds: number | null;
}

export interface OutageMonitor {
  /** One round: probe every source, update states, start or end a downtime, act. */
  tick(): Promise<void>;
  /** A snapshot run's pull counts as evidence about its source (see runEvidence). */
  evidence(sourceId: string, ok: boolean, detail: string): void;
  status(): OutageStatus;
  downtimeActive(): boolean;
  readiness(): Readiness;
  /** Start probing every probeIntervalSeconds (serve). Tests call tick() with a fake clock instead. */
  start(): void;
  stop(): Promise<void>;
}

/**
 * What a snapshot run says about its source: only its pull talked to it. A
 * run that failed after a good pull (a broken template, a full disk) is
 * evidence the source answered; one that failed before pulling, or whose
 * pull was cut off by the agent stopping, says nothing. Counting those as
 * source failures would show the HIS as degraded for a local fault, and
 * could take a recovering link back offline.
 */
export function runEvidence(o: Pick<RunOutcome, 'pull' | 'error'>): { ok: boolean; detail: string } | null {
  if (o.pull === 'succeeded') return { ok: true, detail: '' };
  if (o.pull === 'failed') return { ok: false, detail: o.error ?? 'the pull failed' };
  return null;
}

function loadLinks(db: Db, now: Date, sourceIds: string[]): Map<string, Link> {
  const rows = db.prepare('SELECT scope, state_json FROM link_state').all() as { scope: string; state_json: string }[];
  const saved = new Map(rows.map((r) => [r.scope, JSON.parse(r.state_json) as Link]));
  return new Map(sourceIds.map((id) => [id, saved.get(`source:${id}`) ?? initialLink(now)]));
}

export function startOutageMonitor(deps: OutageDeps): OutageMonitor {
  const clock = deps.clock ?? { now: () => new Date() };
  const log = deps.log.child({ room: 'outage' });
  const cfg = () => deps.config().box.outage;
  const thresholds = (): Thresholds => ({ failuresToOffline: cfg().failuresToOffline, confirmSeconds: cfg().confirmSeconds, successesToOnline: cfg().successesToOnline, recoverSeconds: cfg().recoverSeconds });
  const links = loadLinks(deps.db, clock.now(), deps.config().box.sources.map((s) => s.id));
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<void> | null = null;
  let clockSkew: number | null = null;

  const apply = (sourceId: string, ok: boolean, detail: string) => {
    const link = links.get(sourceId) ?? initialLink(clock.now());
    const r = step(link, { ok, detail, at: clock.now() }, thresholds());
    links.set(sourceId, r.link);
    deps.db.transaction(() => {
      deps.db.prepare('INSERT INTO link_state (scope, state_json, updated_at) VALUES (?, ?, ?) ON CONFLICT(scope) DO UPDATE SET state_json = excluded.state_json, updated_at = excluded.updated_at').run(`source:${sourceId}`, JSON.stringify(r.link), nowIso(clock.now()));
      if (r.transition) deps.db.prepare('INSERT INTO outage_events (at, scope, from_state, to_state, cause) VALUES (?, ?, ?, ?, ?)').run(nowIso(clock.now()), `source:${sourceId}`, r.transition.from, r.transition.to, r.transition.cause);
    })();
    if (r.transition) log.warn({ source: sourceId, from: r.transition.from, to: r.transition.to, cause: r.transition.cause }, 'source state changed');
  };

  const boxState = () => worst([...links.values()].map((l) => l.state));

  /** Why a downtime should be active now, or null. Precedence: declared, planned, detected. */
  const desired = (now: Date, active: DowntimeRow | null): { kind: DowntimeKind; cause: string; by?: string; windowId?: string } | null => {
    const decl = openDeclaration(deps.db);
    if (decl) return { kind: 'declared', cause: `declared by ${decl.declaredBy}: ${decl.reason}`, by: decl.declaredBy };
    const tz = deps.config().box.timeZone;
    for (const w of cfg().windows) {
      const occ = activeOccurrence(w, tz, now);
      if (occ) return { kind: 'planned', cause: `planned window "${occ.title}" ${occ.start.toISOString()} – ${occ.end.toISOString()}`, windowId: w.id };
    }
    const box = boxState();
    // Once down, stay down until the link is fully back (recovering is still down).
    if (box === 'offline' || (box === 'recovering' && active)) {
      const src = [...links.entries()].find(([, l]) => l.state === 'offline' || l.state === 'recovering');
      return { kind: 'detected', cause: `HIS unreachable: source ${src?.[0]} ${src?.[1].state} (${src?.[1].lastError ?? 'no answer'})` };
    }
    return null;
  };

  const renderPdf = (spec: Parameters<Renderer['pdf']>[0]) => (deps.renderer ?? inThreadRenderer).pdf(spec);

  const summarize = async (id: number) => {
    const dt = getDowntime(deps.db, id)!;
    const config = deps.config();
    const data = summaryData(deps.db, deps.blobs, config, dt);
    const t = loadTranslations(config.templatesDir, config.box.paperLanguage ?? config.box.language);
    const { pdf, pages } = await (deps.renderer ?? inThreadRenderer).pdf(downtimeSummaryDocument(data, { t, timeZone: config.box.timeZone, hospital: config.box.site.name, renderedAt: clock.now(), size: 'A4' }));
    saveSummary(deps.db, deps.blobs, id, pdf, pages, clock.now());
    log.info({ downtime: id, pages, prints: data.prints.length }, 'downtime summary ready');
  };

  const preWindowSnapshots = (now: Date) => {
    const lead = cfg().preWindowLeadMinutes * 60_000;
    for (const w of cfg().windows) {
      const occ = nextOccurrence(w, deps.config().box.timeZone, now);
      if (!occ || occ.start.getTime() - now.getTime() > lead) continue;
      const fresh = deps.db.prepare('INSERT OR IGNORE INTO pre_window_runs (window_id, window_start, ran_at) VALUES (?, ?, ?)').run(w.id, occ.start.toISOString(), nowIso(now)).changes;
      if (fresh === 0) continue;
      const jobs = [...deps.config().jobs.values()].filter((j) => j.enabled).map((j) => j.id);
      log.info({ window: w.id, start: occ.start.toISOString(), jobs }, 'planned downtime ahead: taking a final fresh snapshot of every job');
      deps.runJobs(jobs, 'pre-window');
    }
  };

  const evaluate = async () => {
    const now = clock.now();
    preWindowSnapshots(now);
    const active = activeDowntime(deps.db);
    const want = desired(now, active);
    if (!active && want) {
      const dt = startDowntime(deps.db, { kind: want.kind, cause: want.cause, declaredBy: want.by ?? null, windowId: want.windowId ?? null }, now);
      log.warn({ downtime: dt.id, kind: dt.kind }, 'downtime began: printing the downtime pack');
      const r = await autoPrintForDowntime(deps.db, deps.blobs, deps.config(), dt.id, now, renderPdf);
      for (const p of r.problems) log.error({ downtime: dt.id, problem: p }, 'downtime pack incomplete');
      log.info({ downtime: dt.id, queued: r.queued }, 'downtime pack queued');
      deps.kickPrinter?.();
    } else if (active && !active.printedAt) {
      // A crash between starting the downtime and queueing its pack: finish the job now.
      await autoPrintForDowntime(deps.db, deps.blobs, deps.config(), active.id, now, renderPdf);
      deps.kickPrinter?.();
    } else if (active && !want) {
      const endedBy = active.kind === 'declared' ? lastEndedDeclaration(deps.db)?.endedBy ?? null : null;
      endDowntime(deps.db, active.id, endedBy, active.kind === 'detected' ? 'HIS reachable again' : active.kind === 'planned' ? 'planned window over and HIS reachable' : `ended by ${endedBy ?? 'hand'}`, now);
      log.warn({ downtime: active.id }, 'downtime ended: writing the summary');
      await summarize(active.id);
    }
  };

  const tickOnce = async () => {
    const config = deps.config();
    const results = await Promise.all(
      config.box.sources.map(async (s) => {
        const r = deps.probe ? await deps.probe(s.id) : await probeSource(s, deps.sources.get(s.id), config.box.outage.probeTimeoutMs);
        return [s.id, r] as const;
      }),
    );
    await deps.printers?.refresh().catch((err: unknown) => log.warn({ err: errorFields(err) }, 'printer check failed'));
    for (const [id, r] of results) {
      apply(id, r.ok, r.detail);
      if (r.serverDate) clockSkew = Math.round((clock.now().getTime() - r.serverDate.getTime()) / 1000);
    }
    await evaluate();
  };

  const monitor: OutageMonitor = {
    tick() {
      ticking ??= tickOnce()
        .catch((err: unknown) => log.error({ err: errorFields(err) }, 'outage tick failed'))
        .finally(() => (ticking = null));
      return ticking;
    },
    evidence(sourceId, ok, detail) {
      apply(sourceId, ok, ok ? 'snapshot pull succeeded' : `snapshot pull failed: ${detail}`);
    },
    status() {
      const now = clock.now();
      const upcoming = cfg()
        .windows.map((w) => nextOccurrence(w, deps.config().box.timeZone, now))
        .filter((o): o is NonNullable<typeof o> => !!o)
        .sort((a, b) => a.start.getTime() - b.start.getTime())[0];
      return {
        box: boxState(),
        sources: Object.fromEntries(links),
        downtime: activeDowntime(deps.db),
        nextWindow: upcoming ? { id: upcoming.id, title: upcoming.title, start: upcoming.start.toISOString(), end: upcoming.end.toISOString() } : null,
        clockSkewSeconds: clockSkew,
      };
    },
    downtimeActive: () => activeDowntime(deps.db) !== null,
    readiness: () => computeReadiness({ config: deps.config(), db: deps.db, printers: deps.printers ?? emptyCache, clockSkewSeconds: clockSkew, now: clock.now() }),
    start() {
      const loop = () => {
        void monitor.tick().finally(() => {
          if (timer !== null) timer = setTimeout(loop, cfg().probeIntervalSeconds * 1000);
        });
      };
      timer = setTimeout(loop, 0);
    },
    async stop() {
      if (timer) clearTimeout(timer);
      timer = null;
      await ticking;
    },
  };
  return monitor;
}
