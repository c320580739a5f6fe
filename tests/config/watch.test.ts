import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type LoadedConfig } from '../../agent/config/load.js';
import { watchConfig, type ConfigWatcher } from '../../agent/config/watch.js';
import { jobYaml, memoryLogger, tmpDir, writeConfigDir, waitFor } from '../support/fixtures.js';

describe('hot reload of jobs and printers', () => {
  let watcher: ConfigWatcher | null = null;
  afterEach(async () => {
    await watcher?.close();
    watcher = null;
  });

  it('applies a valid edit and a new printer without a restart', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:1/fhir' });
    const { log } = memoryLogger();
    const seen: LoadedConfig[] = [];
    watcher = watchConfig(loadConfig(dir), { log, onChange: (next) => seen.push(next), debounceMs: 20 });
    await watcher.ready;
    fs.writeFileSync(path.join(dir, 'snapshots/ward-1.yaml'), jobYaml('ward-1').replace('*/5 * * * *', '*/10 * * * *'));
    await waitFor(() => seen.length >= 1);
    expect(watcher.current().jobs.get('ward-1')!.schedule.cron).toBe('*/10 * * * *');
    fs.writeFileSync(path.join(dir, 'printers/p1.yaml'), 'id: p1\nname: Ward printer\nkind: folder\nuri: /tmp/out\n');
    await waitFor(() => watcher!.current().printers.has('p1'));
    expect(watcher.current().printers.get('p1')!.kind).toBe('folder');
  });

  it('refuses an invalid edit, logs why, and keeps the running configuration', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:1/fhir' });
    const { log, lines } = memoryLogger();
    const refused: string[] = [];
    let changes = 0;
    watcher = watchConfig(loadConfig(dir), { log, onChange: () => changes++, onRefused: (e) => refused.push(e.message), debounceMs: 20 });
    await watcher.ready;
    fs.writeFileSync(path.join(dir, 'snapshots/ward-1.yaml'), jobYaml('ward-1').replace('*/5 * * * *', '99 * * * *'));
    await waitFor(() => refused.length >= 1);
    expect(refused[0]).toMatch(/snapshots\/ward-1.yaml:3: schedule.cron: invalid cron expression/);
    expect(changes).toBe(0);
    expect(watcher.current().jobs.get('ward-1')!.schedule.cron).toBe('*/5 * * * *');
    expect(lines.some((l) => /configuration edit refused/.test(l))).toBe(true);
    // A later fix is taken.
    fs.writeFileSync(path.join(dir, 'snapshots/ward-1.yaml'), jobYaml('ward-1').replace('*/5 * * * *', '0 * * * *'));
    await waitFor(() => changes === 1);
    expect(watcher.current().jobs.get('ward-1')!.schedule.cron).toBe('0 * * * *');
  });

  it('drops a deleted job', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:1/fhir', wards: ['ward-1', 'ward-2'], jobs: { 'ward-1': jobYaml('ward-1'), 'ward-2': jobYaml('ward-2') } });
    const { log } = memoryLogger();
    watcher = watchConfig(loadConfig(dir), { log, onChange: () => {}, debounceMs: 20 });
    await watcher.ready;
    fs.rmSync(path.join(dir, 'snapshots/ward-2.yaml'));
    await waitFor(() => !watcher!.current().jobs.has('ward-2'));
    expect([...watcher.current().jobs.keys()]).toEqual(['ward-1']);
  });
});
