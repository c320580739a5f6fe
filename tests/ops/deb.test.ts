import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/printers.js';
import { REPO, tmpDir, waitFor } from '../support/fixtures.js';

/**
 * The Debian package as IT installs it, on this machine for real: built,
 * linted, installed with dpkg, configured and started as the service runs,
 * removed (data kept), installed again by the Ansible role, purged. It changes
 * the machine (a system user, /etc/paperback, /var/lib/paperback), so it runs
 * only where asked: .ci/run sets PAPERBACK_OPS_TESTS=1 on its throwaway machine.
 */
const ASKED = process.env.PAPERBACK_OPS_TESTS === '1';
const ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const SYSTEM_NODE = spawnSync('/usr/bin/node', ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).stdout.trim();
// The package depends on the Node major it was built with: only a run on the machine's own Node can install it.
const SAME_NODE = SYSTEM_NODE === process.versions.node.split('.')[0];
if (ASKED && !ROOT) throw new Error('the package tests install a .deb: run them as root (the CI machine)');

/**
 * A command run to its end without blocking this worker: building the package and lintian take a
 * minute, and a test worker that does not answer vitest for that long is reported as an error.
 */
const sh = (cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  new Promise<{ code: number | null; out: string }>((resolve) => {
    const c = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env } });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d));
    c.stderr.on('data', (d: Buffer) => (out += d));
    c.on('error', (err) => resolve({ code: null, out: `${out}${err.message}` }));
    c.on('close', (code) => resolve({ code, out }));
  });
const exists = (p: string) => fs.existsSync(p);
const modeOf = (p: string) => (fs.statSync(p).mode & 0o777).toString(8);
const ownerOf = (p: string) => execFileSync('stat', ['-c', '%U:%G', p], { encoding: 'utf8' }).trim();

/** The unit's Environment= lines and ExecStart, to start the agent as systemd would (no systemd runs in CI). */
function unitSettings(unitFile: string): { env: Record<string, string>; argv: string[]; user: string } {
  const text = fs.readFileSync(unitFile, 'utf8');
  const env = Object.fromEntries([...text.matchAll(/^Environment=(\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  const argv = /^ExecStart=(.*)$/m.exec(text)![1]!.split(/\s+/);
  return { env, argv, user: /^User=(\w+)$/m.exec(text)![1]! };
}

const getJson = (url: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    https.get(url, { rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });

describe.skipIf(!ASKED || !SAME_NODE)('the Debian package, installed on this machine', () => {
  const out = tmpDir('pb-deb-');
  let deb = '';

  it('builds with npm run package, and lintian finds no errors', async () => {
    if ((await sh('dpkg', ['-s', 'paperback'])).code === 0) await sh('dpkg', ['--purge', 'paperback']); // a previous run on this machine
    const built = await sh('npm', ['run', '--silent', 'package', '--', out], { cwd: REPO });
    expect(built.code, built.out).toBe(0);
    deb = built.out.trim().split('\n').pop()!;
    expect(deb).toMatch(/paperback_\d+\.\d+\.\d+_amd64\.deb$/);
    const info = (await sh('dpkg-deb', ['--field', deb, 'Depends'])).out;
    expect(info).toContain(`nodejs (>= ${SYSTEM_NODE === '20' ? '20.19' : `${SYSTEM_NODE}.0`})`);
    const lint = await sh('lintian', ['--tag-display-limit', '0', deb]);
    expect(lint.out.split('\n').filter((l) => l.startsWith('E:')), lint.out).toEqual([]);
  }, 300_000);

  it('installs: a system user, the key made 0600, an example configuration that passes config check, paperback on PATH', async () => {
    const r = await sh('dpkg', ['-i', deb]);
    expect(r.code, r.out).toBe(0);
    expect((await sh('id', ['-u', 'paperback'])).code).toBe(0);
    expect([modeOf('/etc/paperback/data.key'), ownerOf('/etc/paperback/data.key')]).toEqual(['600', 'paperback:paperback']);
    expect(fs.readFileSync('/etc/paperback/data.key', 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    expect([modeOf('/var/lib/paperback'), ownerOf('/var/lib/paperback')]).toEqual(['700', 'paperback:paperback']);
    expect(exists('/etc/paperback/tls/cert.pem')).toBe(true);
    // As root, the command drops to the service's user, so files it makes stay the service's.
    const check = await sh('paperback', ['config', 'check']);
    expect(check.code, check.out).toBe(0);
    expect(check.out).toMatch(/configuration OK: 1 job\(s\), 1 printer\(s\), 1 source\(s\); data in \/var\/lib\/paperback/);
  }, 120_000);

  it('serves as the paperback user with the unit’s settings and its data key as a credential', async () => {
    const unit = unitSettings('/lib/systemd/system/paperback.service');
    expect(unit.argv[unit.argv.length - 1]).toBe('serve');
    // What LoadCredential= does: the key copied into a folder only the service reads.
    const creds = tmpDir('pb-cred-');
    fs.copyFileSync('/etc/paperback/data.key', path.join(creds, 'data-key'));
    execFileSync('chown', ['-R', `${unit.user}:${unit.user}`, creds]);
    fs.chmodSync(path.join(creds, 'data-key'), 0o400);
    fs.chmodSync(creds, 0o500);
    const port = await freePort();
    const child = spawn('setpriv', ['--reuid', unit.user, '--regid', unit.user, '--init-groups', '--', ...unit.argv, '--port', String(port)], {
      env: { PATH: process.env.PATH, ...unit.env, CREDENTIALS_DIRECTORY: creds },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (c: Buffer) => (log += c));
    child.stderr.on('data', (c: Buffer) => (log += c));
    try {
      await waitFor(() => /Paperback is serving/.test(log), 30_000).catch(() => {
        throw new Error(`serve did not start:\n${log}`);
      });
      // The log says where it listens (a key the patient-data redaction leaves alone); pino writes it a moment after stdout.
      await waitFor(() => /"msg":"Paperback is serving"/.test(log), 10_000);
      expect(log).toMatch(new RegExp(`"url":"https://[0-9.]+:${port}"`));
      const health = await getJson(`https://127.0.0.1:${port}/healthz`);
      expect(health).toEqual({ status: 200, body: '{"ok":true}' });
      expect((await getJson(`https://127.0.0.1:${port}/metrics`)).body).toMatch(/paperback_ready/);
      const uid = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1];
      expect(uid).toBe(execFileSync('id', ['-u', unit.user], { encoding: 'utf8' }).trim());
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    expect(ownerOf('/var/lib/paperback/paperback.sqlite')).toBe('paperback:paperback');
  }, 90_000);

  it('dpkg -r leaves the configuration, the key and the data; the Ansible role installs it again, idempotently', async () => {
    const keyBefore = crypto.createHash('sha256').update(fs.readFileSync('/etc/paperback/data.key')).digest('hex');
    expect((await sh('dpkg', ['-r', 'paperback'])).code).toBe(0);
    expect(exists('/usr/bin/paperback')).toBe(false);
    expect(['/etc/paperback/paperback.yaml', '/etc/paperback/data.key', '/var/lib/paperback/paperback.sqlite'].filter(exists)).toHaveLength(3);
    const dir = tmpDir('pb-ansible-');
    fs.writeFileSync(path.join(dir, 'inventory.ini'), '[paperback_boxes]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
    const vars = {
      paperback_deb: deb,
      paperback_config: {
        site: { id: 'test-hospital', name: 'Bệnh viện Thử' },
        box: { id: 'ward-9-box' },
        wards: [{ id: 'ward-9', name: 'Khoa 9' }],
        timeZone: 'Asia/Ho_Chi_Minh',
        language: 'vi',
        dataDir: '/var/lib/paperback',
        sources: [{ id: 'his', kind: 'fhir', baseUrl: 'https://his.example.invalid/fhir' }],
        web: { host: '127.0.0.1', port: 8443, tls: { certFile: 'tls/cert.pem', keyFile: 'tls/key.pem' } },
      },
      paperback_snapshots: { 'ward-9': { id: 'ward-9', title: 'Ward 9', schedule: { cron: '*/5 * * * *' }, source: 'his', scope: { ward: 'ward-9', location: 'Location/ward-9' }, documents: ['census', 'mar'], downtime: { print: ['census'], printer: 'ward-9-laser' } } },
      paperback_printers: { 'ward-9-laser': { id: 'ward-9-laser', name: 'Ward 9 laser', uri: 'ipp://printer.example.invalid/ipp/print' } },
    };
    fs.writeFileSync(path.join(dir, 'vars.json'), JSON.stringify(vars));
    const play = () => sh('ansible-playbook', ['-i', path.join(dir, 'inventory.ini'), '-e', `@${path.join(dir, 'vars.json')}`, path.join(REPO, 'ops/ansible/site.yml')], { env: { ANSIBLE_NOCOLOR: '1', ANSIBLE_ROLES_PATH: path.join(REPO, 'ops/ansible/roles') } });
    const first = await play();
    expect(first.code, first.out).toBe(0);
    expect(first.out).toMatch(/localhost\s+: ok=\d+\s+changed=[1-9]/);
    expect((await sh('dpkg', ['-s', 'paperback'])).out).toMatch(/Status: install ok installed/);
    expect(fs.readFileSync('/etc/paperback/paperback.yaml', 'utf8')).toContain('ward-9-box');
    expect((await sh('paperback', ['config', 'check'])).out).toMatch(/configuration OK: 1 job\(s\), 1 printer\(s\)/);
    expect(fs.readdirSync('/etc/paperback/snapshots')).toEqual(['ward-9.yaml']);
    // The reinstall kept the key the first install made.
    expect(crypto.createHash('sha256').update(fs.readFileSync('/etc/paperback/data.key')).digest('hex')).toBe(keyBefore);
    const second = await play();
    expect(second.code, second.out).toBe(0);
    expect(second.out).toMatch(/localhost\s+: ok=\d+\s+changed=0/);
  }, 300_000);

  it('purge removes the configuration, the key, the data and the user', async () => {
    expect((await sh('dpkg', ['--purge', 'paperback'])).code).toBe(0);
    expect(['/etc/paperback', '/var/lib/paperback'].filter(exists)).toEqual([]);
    expect((await sh('id', ['-u', 'paperback'])).code).not.toBe(0);
  }, 60_000);
});

describe('the Ansible role', () => {
  it.skipIf(spawnSync('sh', ['-c', 'command -v ansible-playbook']).status !== 0)('passes ansible-playbook --syntax-check', async () => {
    const r = await sh('ansible-playbook', ['--syntax-check', '-i', 'inventory.example.ini', 'site.yml'], { cwd: path.join(REPO, 'ops/ansible') });
    expect(r.code, r.out).toBe(0);
  });
});
