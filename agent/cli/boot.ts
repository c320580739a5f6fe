import path from 'node:path';
import { defaultNameOrder } from '../model/names.js';
import type { Logger } from 'pino';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { DemoHis } from '../demo/demo-his.js';
import { openBlobStore, type BlobStore } from '../store/blobs.js';
import { openDb, type Db } from '../store/db.js';
import { syncConfiguredRanges } from '../store/downtime-numbers.js';
import { loadDataKey } from '../store/data-key.js';
import { createFhirSource } from '../sources/fhir/index.js';
import type { Source } from '../sources/types.js';
import { inThreadRenderer, type Renderer } from '../render/renderer.js';
import { createRenderPool } from '../render/render-pool.js';
import { diskReserve, type DiskReserve } from '../store/disk-space.js';
import { registerAuditKeys } from '../audit/seal.js';

export interface Agent {
  config: LoadedConfig;
  db: Db;
  blobs: BlobStore;
  sources: Map<string, Source>;
  demo: Map<string, DemoHis>;
  renderer: Renderer;
  /** The data disk's reserve (see store/disk-space.ts). */
  reserve: DiskReserve;
  close(): Promise<void>;
}

/**
 * After a snapshot the main thread holds a run's garbage until V8 gets round
 * to it; on an idle box that is resident memory for nothing. When the render
 * threads end or go quiet, and the daemon runs with --expose-gc (npm start,
 * the systemd unit), collect once.
 */
function releaseMemory(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export interface OpenAgentOptions {
  configDir: string;
  dataDir?: string;
  log: Logger;
  withSources: boolean;
  watchDropFolders?: boolean;
  listenHl7?: boolean;
  /** Render in worker threads (render: in paperback.yaml), as the daemon does; otherwise in this thread. */
  renderThreads?: boolean;
}

/** Open the configuration and the store; start sources only when the command needs them. */
export async function openAgent(opts: OpenAgentOptions): Promise<Agent> {
  const config = loadConfig(opts.configDir, { dataDir: opts.dataDir });
  // With the disk full, even opening the store needs a little room: the reserve is given up first.
  const reserve = diskReserve(config.dataDir, { bytes: config.box.disk.reserveMb * 1024 * 1024, lowWaterBytes: config.box.disk.lowWaterMb * 1024 * 1024, log: opts.log });
  reserve.check();
  const db = openDb(config.dataDir);
  reserve.check();
  syncConfiguredRanges(db, config.box.downtimeNumbers.ranges);
  const key = loadDataKey({ keyFile: config.keyFile, configDir: config.dir, createKey: config.box.encryption.createKey, dataDir: config.dataDir });
  const previous = config.box.encryption.previousKeyFiles.map((f) => loadDataKey({ keyFile: path.resolve(config.dir, f), configDir: config.dir, createKey: false, dataDir: config.dataDir }));
  const blobs = openBlobStore(config.dataDir, key, previous);
  // Audit rows are sealed with a key derived from the data key, which is not in the database.
  registerAuditKeys(db, [key, ...previous]);
  const sources = new Map<string, Source>();
  const demo = new Map<string, DemoHis>();
  if (opts.withSources) {
    for (const s of config.box.sources) {
      if (s.kind === 'fhir') sources.set(s.id, createFhirSource(s, { configDir: config.dir }));
      else if (s.kind === 'sql') {
        // Loaded only when configured: the database drivers are of no use to a FHIR box.
        const { createSqlSource } = await import('../sources/sql/index.js');
        sources.set(s.id, createSqlSource(s, { configDir: config.dir, log: opts.log, timeZone: config.box.timeZone }));
      }
      else if (s.kind === 'demo') {
        // Loaded only when configured: the FHIR server's definitions take a second to index.
        const { startDemoHis } = await import('../demo/demo-his.js');
        const his = await startDemoHis(s, config.box.wards);
        demo.set(s.id, his);
        sources.set(s.id, createFhirSource(his.fhir, { configDir: config.dir }));
        opts.log.info({ source: s.id, url: his.server.url }, 'demo HIS (FHIR R4, synthetic data) started on loopback');
      }
    }
    // Census-only sources last: their per-patient clinical data comes from a FHIR source made above.
    for (const s of config.box.sources) {
      if (s.kind === 'dropfolder') {
        const { createDropFolderSource } = await import('../sources/dropfolder/index.js');
        sources.set(s.id, createDropFolderSource(s, { configDir: config.dir, log: opts.log, watch: opts.watchDropFolders ?? false, clinical: s.clinical ? sources.get(s.clinical) : undefined, timeZone: config.box.timeZone, wardIds: () => config.box.wards.map((w) => w.id) }));
      }
      if (s.kind !== 'hl7') continue;
      const { createHl7Source } = await import('../sources/hl7/index.js');
      const clinical = s.clinical ? sources.get(s.clinical) : undefined;
      const src = createHl7Source(s, { db, blobs, log: opts.log, configDir: config.dir, timeZone: config.box.timeZone, nameOrder: config.box.names.order ?? defaultNameOrder(config.box.language), wardIds: () => config.box.wards.map((w) => w.id), listen: opts.listenHl7 ?? false, clinical });
      sources.set(s.id, src);
      await src.started;
    }
  }
  const threads = config.box.render.threads;
  const renderer = opts.renderThreads && threads !== 0 ? createRenderPool({ threads, idleMs: config.box.render.idleSeconds * 1000, log: opts.log, onIdle: releaseMemory }) : inThreadRenderer;
  return {
    config,
    db,
    blobs,
    sources,
    demo,
    renderer,
    reserve,
    async close() {
      await renderer.close();
      for (const d of demo.values()) await d.server.close();
      for (const s of sources.values()) await s.close?.();
      db.close();
    },
  };
}
