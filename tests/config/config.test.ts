import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../agent/config/load.js';
import { REPO, jobYaml, runCli, tmpDir, writeConfigDir } from '../support/fixtures.js';

function problemsOf(dir: string) {
  try {
    loadConfig(dir);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected the configuration to be refused');
}

describe('configuration validation', () => {
  it('accepts a valid folder and fills defaults', () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:1/fhir' });
    const cfg = loadConfig(dir);
    const job = cfg.jobs.get('ward-1')!;
    expect(job.retention.keepLast).toBe(3);
    expect(job.datasets).toContain('medications');
    expect(cfg.dataDir).toBe(path.join(dir, 'data'));
    expect(cfg.box.web.port).toBe(8080);
  });

  it('names the file, the line and the field of a bad cron expression', () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:1/fhir', jobs: { 'ward-1': jobYaml('ward-1').replace('"*/5 * * * *"', '"every five minutes"') } });
    const [p, ...rest] = problemsOf(dir);
    expect(rest).toHaveLength(0);
    expect(p).toMatchObject({ file: 'snapshots/ward-1.yaml', field: 'schedule.cron', line: 3 });
    expect(p!.message).toMatch(/invalid cron expression "every five minutes"/);
  });

  it('reports a missing required field, an unknown field and a wrong type together', () => {
    const bad = jobYaml('ward-1').replace('title: Snapshot of ward-1\n', '').replace('runTimeoutSeconds: 60', 'runTimeoutSeconds: soon\ncolour: blue');
    const dir = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:1/fhir', jobs: { 'ward-1': bad } });
    const problems = problemsOf(dir);
    const byField = Object.fromEntries(problems.map((p) => [p.field, p]));
    expect(byField.title?.message).toBe('is required');
    expect(byField.runTimeoutSeconds?.message).toMatch(/number/);
    expect(problems.some((p) => /unknown field\(s\) "colour"/.test(p.message))).toBe(true);
    expect(problems.every((p) => p.file === 'snapshots/ward-1.yaml')).toBe(true);
  });

  it('refuses YAML that does not parse, with its line', () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:1/fhir', jobs: { 'ward-1': 'id: ward-1\ntitle: [unclosed\n' } });
    const [p] = problemsOf(dir);
    expect(p!.file).toBe('snapshots/ward-1.yaml');
    expect(p!.message).toMatch(/not valid YAML/);
    expect(p!.line).toBeGreaterThan(0);
  });

  it('checks references across files: sources, wards, printers, fallbacks', () => {
    const job = jobYaml('ward-1').replace('source: his', 'source: nowhere') + 'downtime: { print: [census], printer: ghost }\n';
    const dir = writeConfigDir(tmpDir(), {
      baseUrl: 'http://127.0.0.1:1/fhir',
      jobs: { 'ward-1': job },
      printers: { p1: 'id: p1\nname: Ward printer\nuri: ipp://127.0.0.1:631/ipp/print\nfallback: p9\n' },
    });
    const problems = problemsOf(dir);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: 'snapshots/ward-1.yaml', field: 'source', message: expect.stringMatching(/no source "nowhere"/) }),
        expect.objectContaining({ file: 'snapshots/ward-1.yaml', field: 'downtime.printer', message: expect.stringMatching(/no printer "ghost"/) }),
        expect.objectContaining({ file: 'printers/p1.yaml', field: 'fallback', message: expect.stringMatching(/no printer "p9"/) }),
      ]),
    );
  });

  it('checks an HL7 feed: its ward mapping and its clinical source', () => {
    const dir = writeConfigDir(tmpDir(), {
      baseUrl: 'http://127.0.0.1:1/fhir',
      extraSource: '  - { id: adt, kind: hl7, listen: { port: 2575 }, allowFrom: [10.0.0.1], wards: { "3A": ward-9 }, clinical: nowhere }\n',
    });
    expect(problemsOf(dir)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: 'paperback.yaml', field: 'sources.1.wards.3A', message: expect.stringMatching(/no ward "ward-9"/) }),
        expect.objectContaining({ file: 'paperback.yaml', field: 'sources.1.clinical', message: '"nowhere" must be the id of a FHIR source in sources' }),
      ]),
    );
  });

  it('refuses two files with the same job id', () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:1/fhir', jobs: { a: jobYaml('ward-1'), b: jobYaml('ward-1') } });
    const problems = problemsOf(dir);
    expect(problems).toEqual([expect.objectContaining({ file: 'snapshots/b.yaml', field: 'id', message: expect.stringMatching(/already used by snapshots\/a.yaml/) })]);
  });

  it('`paperback config check` prints the problems and exits non-zero', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: 'not a url' });
    const res = await runCli(['--config', dir, 'config', 'check']);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/paperback.yaml:\d+: sources.0.baseUrl: /);
    const ok = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:1/fhir' });
    const good = await runCli(['--config', ok, 'config', 'check']);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/configuration OK: 1 job/);
  });

  it('refuses values without sane bounds, a fallback loop, an unknown form, a key in the data folder, a file:// HIS and missing TLS files', () => {
    const base = 'http://127.0.0.1:1/fhir';
    const job = (extra: string) => ({ 'ward-1': jobYaml('ward-1', extra) });
    const field = (dir: string) => problemsOf(dir).map((p) => `${p.file}: ${p.field}: ${p.message}`).join('\n');
    expect(field(writeConfigDir(tmpDir(), { baseUrl: base, jobs: { 'ward-1': jobYaml('ward-1').replace('maxAgeDays: 7', 'maxAgeDays: 1000000000') } }))).toMatch(/snapshots\/ward-1.yaml: retention.maxAgeDays: /);
    expect(field(writeConfigDir(tmpDir(), { baseUrl: base, jobs: { 'ward-1': jobYaml('ward-1').replace('backoffSeconds: 1', 'backoffSeconds: 1e12') } }))).toMatch(/retry.backoffSeconds: /);
    expect(field(writeConfigDir(tmpDir(), { baseUrl: base, jobs: job('forms: [no-such-form]\n') }))).toMatch(/snapshots\/ward-1.yaml: forms.0: no form "no-such-form" in templates\/forms\/forms.yaml/);
    expect(field(writeConfigDir(tmpDir(), { baseUrl: 'file:///etc/passwd' }))).toMatch(/paperback.yaml: sources.0.baseUrl: must be an http:\/\/ or https:\/\/ URL/);
    const loop = writeConfigDir(tmpDir(), {
      baseUrl: base,
      printers: { a: 'id: a\nname: A\nuri: ipp://127.0.0.1:1/ipp/print\nfallback: b\n', b: 'id: b\nname: B\nuri: ipp://127.0.0.1:2/ipp/print\nfallback: a\n' },
    });
    expect(field(loop)).toMatch(/printers\/a.yaml: fallback: the fallbacks go round in a loop: a → b → a/);
    const keyInData = writeConfigDir(tmpDir(), { baseUrl: base });
    fs.writeFileSync(path.join(keyInData, 'paperback.yaml'), fs.readFileSync(path.join(keyInData, 'paperback.yaml'), 'utf8').replace('keyFile: paperback.key', 'keyFile: data/paperback.key'));
    expect(field(keyInData)).toMatch(/paperback.yaml: encryption.keyFile: the data key must be outside the data folder/);
    const tls = writeConfigDir(tmpDir(), { baseUrl: base });
    fs.writeFileSync(path.join(tls, 'paperback.yaml'), fs.readFileSync(path.join(tls, 'paperback.yaml'), 'utf8').replace('web: { insecureHttp: true }', 'web: { tls: { certFile: certs/box.crt, keyFile: certs/box.key } }'));
    expect(field(tls)).toMatch(/paperback.yaml: web.tls.certFile: file not found: .*certs\/box.crt/);
    expect(field(tls)).toMatch(/web.tls.keyFile: file not found/);
  });

  it('finds in one pass what a run would hit, even while paperback.yaml itself is wrong', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: 'not a url', jobs: { 'ward-1': jobYaml('ward-1', 'downtime: { print: [census], printer: nowhere }\n') }, printers: { ipps: 'id: ipps\nname: Secure\nuri: ipps://10.0.0.9/ipp/print\ncaFile: certs/missing-ca.pem\n' } });
    fs.rmSync(path.join(dir, 'templates')); // the link to the shipped templates, replaced by a folder with no documents in it
    fs.mkdirSync(path.join(dir, 'templates', 'forms'), { recursive: true });
    const res = await runCli(['--config', dir, 'config', 'check']);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/paperback.yaml:\d+: sources.0.baseUrl: /);
    expect(res.stderr).toContain('snapshots/ward-1.yaml: downtime.printer: no printer "nowhere" in printers/');
    expect(res.stderr).toMatch(/printers\/ipps.yaml: caFile: file not found: .*missing-ca.pem/);
    expect(res.stderr).toMatch(/templates\/: .* has no documents\/ folder/);
    // A key the box may not create must be there and readable.
    const noKey = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:1/fhir' });
    const yaml = path.join(noKey, 'paperback.yaml');
    fs.writeFileSync(yaml, fs.readFileSync(yaml, 'utf8').replace('encryption: { keyFile: paperback.key, createKey: true }', 'encryption: { keyFile: /etc/paperback/absent.key, createKey: false }'));
    expect(problemsOf(noKey)).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'encryption.keyFile', message: 'file not found: /etc/paperback/absent.key' })]));
  });

  it('serves a copy of the demo folder made anywhere: without its own templates it uses the shipped ones', async () => {
    const copy = path.join(tmpDir(), 'my-ward');
    fs.cpSync(path.join(REPO, 'demo'), copy, { recursive: true, dereference: false, filter: (src) => path.basename(src) !== 'templates' && path.basename(src) !== 'data' });
    expect(fs.existsSync(path.join(copy, 'templates'))).toBe(false);
    const check = await runCli(['--config', copy, 'config', 'check']);
    expect(check.code, check.stderr).toBe(0);
    expect(loadConfig(copy).templatesDir).toBe(path.join(REPO, 'templates'));
    const run = await runCli(['--config', copy, 'run', 'ward-3a']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/ward-3a: snapshot \d+ published/);
  });

  it('names the file when YAML expands an alias bomb, and exits 3', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:1/fhir' });
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...'bcdefghij'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdefghij'[i]}`).join(',')}]`)].join('\n');
    fs.writeFileSync(path.join(dir, 'snapshots', 'bomb.yaml'), `${bomb}\n`);
    const res = await runCli(['--config', dir, 'config', 'check']);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/snapshots\/bomb.yaml/);
  }, 30_000);

  it('takes the data folder from --data, then PAPERBACK_DATA, then the config', () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:1/fhir' });
    expect(loadConfig(dir, { dataDir: '/tmp/x' }).dataDir).toBe('/tmp/x');
    process.env.PAPERBACK_DATA = '/tmp/y';
    try {
      expect(loadConfig(dir).dataDir).toBe('/tmp/y');
    } finally {
      delete process.env.PAPERBACK_DATA;
    }
    fs.rmSync(path.join(dir, 'paperback.yaml'));
    expect(() => loadConfig(dir)).toThrow(/paperback.yaml: not found/);
  });
});
