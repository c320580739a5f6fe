import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricsRegistry } from '../../agent/web/metrics.js';
import { openTestAgent, REPO, tmpDir, writeConfigDir } from '../support/fixtures.js';
import { REQUIRE_PEERS } from '../support/printers.js';

/** The fleet's monitoring as IT deploys it: the rules checked and unit-tested by promtool, the route by amtool. */
const OPS = path.join(REPO, 'ops');
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const HAVE = have('promtool') && have('amtool');
if (REQUIRE_PEERS && !HAVE) throw new Error('promtool and amtool are required in CI (Debian prometheus, prometheus-alertmanager)');
const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: path.join(OPS, 'prometheus'), encoding: 'utf8' });

describe.skipIf(!HAVE)('Prometheus rules and the Alertmanager route', () => {
  it('the alert rules are valid and their unit tests pass', () => {
    const check = run('promtool', ['check', 'rules', 'paperback.rules.yml']);
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/SUCCESS: 11 rules found/);
    const test = run('promtool', ['test', 'rules', 'paperback.rules.test.yml']);
    expect(test.status, test.stdout + test.stderr).toBe(0);
  });

  it('a downtime pages IT and the ward’s charge nurse; a warning goes to IT’s queue', () => {
    expect(run('amtool', ['check-config', 'alertmanager.example.yml']).status).toBe(0);
    const route = (...labels: string[]) => run('amtool', ['config', 'routes', 'test', '--config.file=alertmanager.example.yml', ...labels]).stdout.trim();
    expect(route('alertname=PaperbackDowntimeStarted', 'audience=it-and-ward', 'severity=page', 'instance=ward-3a:8443')).toBe('it-pager,charge-nurse-ward-3a');
    expect(route('alertname=PaperbackPrinterDownInDowntime', 'audience=it', 'severity=page')).toBe('it-pager');
    expect(route('alertname=PaperbackSnapshotStale', 'audience=it', 'severity=warning')).toBe('it-queue');
  });
});

describe('the rules and the dashboard ask only for what a box exports', () => {
  it('every paperback_* metric they name is one /metrics serves', async () => {
    const a = openTestAgent(writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:9' }));
    const exported = new Set([...(await metricsRegistry({ config: () => a.config, db: a.db }).metrics()).matchAll(/^# HELP (\w+)/gm)].map((m) => m[1]!));
    const named = (file: string) => [...fs.readFileSync(path.join(OPS, file), 'utf8').matchAll(/\b(paperback_[a-z_]+)\b/g)].map((m) => m[1]!);
    const used = new Set([...named('prometheus/paperback.rules.yml'), ...named('grafana/paperback-fleet.json')].filter((n) => n !== 'paperback_boxes'));
    expect(used.size).toBeGreaterThan(8);
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
    // The dashboard is JSON Grafana can import: every panel has a query.
    const dash = JSON.parse(fs.readFileSync(path.join(OPS, 'grafana/paperback-fleet.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    expect(dash.panels.every((p) => p.targets[0]!.expr.length > 0)).toBe(true);
  });
});
