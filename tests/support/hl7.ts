import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { REPO, tmpDir } from './fixtures.js';

/** Debian's mllp_send (python3-hl7): a real MLLP client, as an interface engine would be. */
export const HAVE_MLLP_SEND = spawnSync('sh', ['-c', 'command -v mllp_send']).status === 0;
if (process.env.CI === 'true' && !HAVE_MLLP_SEND) throw new Error('mllp_send (Debian python3-hl7) is required in CI');

export const hl7Time = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
const base = new Date('2026-11-22T01:00:00Z');
export const at = (minutes: number) => hl7Time(new Date(base.getTime() + minutes * 60_000));

export interface Adt {
  id: string;
  type: string;
  minute: number;
  mrn: string;
  name?: string;
  bed?: string;
  prior?: string;
  al1?: string[];
  dg1?: string[];
  facility?: string;
}

/** One ADT message; times are written without an offset (local to the box under test). */
export function adt(m: Adt): string {
  const pv1 = Array<string>(46).fill('');
  pv1[0] = 'PV1';
  pv1[1] = '1';
  pv1[2] = 'I';
  pv1[3] = m.bed ?? '';
  pv1[6] = m.prior ?? '';
  pv1[7] = 'D01^Trần^Quang^^^BS.';
  if (['A01', 'A04', 'A13'].includes(m.type)) pv1[44] = at(m.minute);
  if (m.type === 'A03') pv1[45] = at(m.minute);
  return [
    `MSH|^~\\&|HIS|BVDEMO|PAPERBACK|${m.facility ?? 'BVDEMO'}|${at(m.minute)}||ADT^${m.type}^ADT_A01|${m.id}|P|2.5`,
    `EVN|${m.type}|${at(m.minute)}`,
    `PID|1||${m.mrn}^^^BVDEMO^MR||${m.name ?? 'Nguyễn^Hồng^Thị'}||19560304|F`,
    pv1.join('|'),
    ...(m.al1 ?? []).map((a, i) => `AL1|${i + 1}|DA|${a}|SV|Phát ban`),
    ...(m.dg1 ?? []).map((d, i) => `DG1|${i + 1}||${d}||${at(m.minute)}|A`),
  ].join('\r\n');
}

export interface Ack {
  code: string;
  controlId: string;
  text: string;
  /** The ERR segment, when the ACK has one: ERR-2 location, ERR-3 code, ERR-8 words. */
  err?: { location: string; code: string; text: string };
  /** The whole ACK, segments joined by \r. */
  raw: string;
}

/** Every ACK in what a sender read back, framing bytes included. */
const acksIn = (received: string): Ack[] => received.split('\x1c').filter((chunk) => chunk.includes('MSA|')).map(readAck);

/** An ACK as the sender reads it. */
export function readAck(raw: string): Ack {
  const segs = raw.replace(/[\x0b\x1c]/g, '').split(/\r\n|\r|\n/).filter(Boolean);
  const msa = (segs.find((s) => s.startsWith('MSA|')) ?? 'MSA||').split('|');
  const err = segs.find((s) => s.startsWith('ERR|'))?.split('|');
  return { code: msa[1] ?? '', controlId: msa[2] ?? '', text: msa[3] ?? '', ...(err ? { err: { location: err[2] ?? '', code: (err[3] ?? '').split('^')[0]!, text: err[8] ?? '' } } : {}), raw: segs.join('\r') };
}

export interface Sent {
  code: number | null;
  acks: Ack[];
  stderr: string;
}

/** Send messages with mllp_send (one connection, in order) and read back each ACK. `raw`: the file's bytes as they are. */
export function send(port: number, messages: string[], opts: { raw?: Buffer } = {}): Promise<Sent> {
  const dir = tmpDir('pb-mllp-');
  const file = path.join(dir, 'batch.hl7');
  const args = ['-p', String(port), '127.0.0.1'];
  if (opts.raw) fs.writeFileSync(file, opts.raw);
  else {
    fs.writeFileSync(file, `${messages.join('\r\n')}\r\n`);
    args.unshift('--loose', '--file', file);
  }
  return new Promise((resolve) => {
    const c = spawn('mllp_send', opts.raw ? [...args, '--file', file] : args);
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('close', (code) => {
      // mllp_send prints each ACK as it came, framing bytes included.
      resolve({ code, acks: acksIn(out), stderr: err });
    });
  });
}

/** Write bytes on one raw TCP connection and collect the ACKs that come back until `expect` of them have, or the peer closes. */
export function rawExchange(port: number, writes: Buffer[], expect: number, timeoutMs = 8000): Promise<{ acks: Ack[]; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve({ acks: acksIn(got), closed });
    };
    const timer = setTimeout(done, timeoutMs);
    s.on('connect', async () => {
      for (const w of writes) {
        s.write(w);
        await new Promise((r) => setTimeout(r, 30));
      }
    });
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (acksIn(got).length >= expect) done();
    });
    s.on('close', () => {
      closed = true;
      done();
    });
    s.on('error', () => undefined);
  });
}

/** A config folder with one ADT source on `port` and a census job for ward 3A. */
export function hl7ConfigDir(opts: { port: number; allowFrom?: string; clinical?: string; extraSources?: string; timeZone?: string; sourceExtra?: string; facilities?: string; wards?: string }): string {
  const dir = tmpDir('pb-hl7-');
  fs.mkdirSync(path.join(dir, 'snapshots'));
  fs.mkdirSync(path.join(dir, 'printers'));
  fs.symlinkSync(path.join(REPO, 'templates'), path.join(dir, 'templates'));
  fs.writeFileSync(
    path.join(dir, 'paperback.yaml'),
    `site: { id: t, name: Test Hospital }
box: { id: t-box }
wards: [{ id: ward-3a, name: Ward 3A }, { id: ward-5b, name: Ward 5B }]
timeZone: ${opts.timeZone ?? 'UTC'}
language: en
names: { order: family-first }
sources:
  - id: adt
    kind: hl7
    listen: { host: 127.0.0.1, port: ${opts.port} }
    allowFrom: [${opts.allowFrom ?? '127.0.0.1'}]
    facilities: [${opts.facilities ?? 'BVDEMO'}]
    wards: { ${opts.wards ?? '"3A": ward-3a'} }
${opts.clinical ? `    clinical: ${opts.clinical}\n` : ''}${opts.sourceExtra ?? ''}${opts.extraSources ?? ''}web: { insecureHttp: true }
encryption: { keyFile: k.key, createKey: true }
schedule: { spreadSeconds: 0 }
`,
  );
  fs.writeFileSync(
    path.join(dir, 'snapshots', 'ward-3a.yaml'),
    `id: ward-3a\ntitle: Ward 3A\nschedule: { cron: "*/5 * * * *" }\nsource: adt\nscope: { ward: ward-3a, location: "3A" }\ndocuments: [census, mar]\nretry: { attempts: 1, backoffSeconds: 1 }\n`,
  );
  return dir;
}
