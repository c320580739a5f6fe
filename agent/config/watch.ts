import path from 'node:path';
import { watch } from 'chokidar';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type LoadedConfig } from './load.js';

export interface ConfigWatcher {
  current(): LoadedConfig;
  close(): Promise<void>;
  /** Resolves once the underlying watcher is ready (tests wait on it). */
  ready: Promise<void>;
}

/**
 * Watch snapshots/ and printers/ and reload the configuration when a file changes.
 * A reload is all-or-nothing: if any file is invalid the edit is refused, the
 * problems are logged, and the running configuration stays as it was.
 */
export function watchConfig(
  initial: LoadedConfig,
  opts: { log: Logger; dataDir?: string; onChange: (next: LoadedConfig, prev: LoadedConfig) => void; onRefused?: (err: ConfigError) => void; debounceMs?: number },
): ConfigWatcher {
  let config = initial;
  let timer: NodeJS.Timeout | null = null;
  const dirs = [path.join(initial.dir, 'snapshots'), path.join(initial.dir, 'printers'), path.join(initial.dir, 'paperback.yaml')];
  const watcher = watch(dirs, {
    ignoreInitial: true,
    // Editors write in several steps; wait until the file has stopped changing.
    awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 50 },
    ignored: (p) => path.basename(p).startsWith('.') || /~$|\.swp$/.test(p),
  });
  const reload = () => {
    timer = null;
    try {
      const next = loadConfig(initial.dir, { dataDir: opts.dataDir });
      const prev = config;
      if (JSON.stringify(next.box) !== JSON.stringify(prev.box)) {
        opts.log.warn({ file: 'paperback.yaml' }, 'paperback.yaml changed: jobs and printers reloaded, box settings (sources, web, data) take effect after a restart');
        next.box = prev.box;
        next.dataDir = prev.dataDir;
        next.keyFile = prev.keyFile;
      }
      config = next;
      opts.log.info({ jobs: [...next.jobs.keys()], printers: [...next.printers.keys()] }, 'configuration reloaded');
      opts.onChange(next, prev);
    } catch (err) {
      if (err instanceof ConfigError) {
        opts.log.error({ problems: err.problems }, 'configuration edit refused; the running configuration is unchanged');
        opts.onRefused?.(err);
      } else {
        opts.log.error({ err }, 'configuration reload failed; the running configuration is unchanged');
      }
    }
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, opts.debounceMs ?? 100);
  };
  watcher.on('add', schedule).on('change', schedule).on('unlink', schedule);
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    current: () => config,
    ready,
    close: async () => {
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}
