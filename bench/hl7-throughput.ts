/**
 * ADT throughput over one MLLP connection, as an interface engine sends:
 * one message, wait for its ACK, the next. Every AA means the message was
 * decoded, checked, sealed and committed to SQLite (fsync) first, then
 * applied. The floor is a bare MLLP server on the same loopback that answers
 * a fixed ACK without reading anything: the ratio is what Paperback's work
 * costs per message. Issue #23 asks for at least 100 messages/s.
 * Run: npm run build && node dist/bench/hl7-throughput.js [messages]
 */
import net from 'node:net';
import { openAgent } from '../agent/cli/boot.js';
import { freePort } from '../agent/demo/ipp-printer.js';
import { silentLogger } from '../agent/log/logger.js';
import { benchConfigDir } from './config-dir.js';

const count = Number(process.argv[2] ?? 2000);
const hl7Time = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(0, 14);

/** A realistic mix: admits, transfers, updates and discharges over 200 patients, with AL1 and Vietnamese names. */
function message(i: number): string {
  const types = ['A01', 'A08', 'A02', 'A08', 'A03'];
  const type = types[Math.floor(i / 200) % types.length]!;
  const mrn = `BV${100000 + (i % 200)}`;
  const t = hl7Time(new Date(Date.UTC(2026, 10, 22, 0, 0, i)));
  return [
    `MSH|^~\\&|HIS|BVDEMO|PAPERBACK|BVDEMO|${t}||ADT^${type}^ADT_A01|B${i}|P|2.5.1||||||UNICODE UTF-8`,
    `EVN|${type}|${t}`,
    `PID|1||${mrn}^^^BVDEMO^MR~0791800${String(i).padStart(5, '0')}^^^BYT^NI||Nguyễn^Hồng^Thị||19560304|F`,
    `PV1|1|I|3A^${300 + (i % 40)}^${1 + (i % 2)}||||D01^Trần^Quang^^^BS.|||||||||||||||||||||||||||||||||||||${t}`,
    'AL1|1|DA|PEN^Penicillin|SV|Phát ban',
  ].join('\r');
}

const frame = (s: string) => Buffer.concat([Buffer.from([0x0b]), Buffer.from(s, 'utf8'), Buffer.from([0x1c, 0x0d])]);

/** Send every message on one connection, each after the previous ACK; per-message latency in ms. */
function drive(port: number, n: number): Promise<{ ms: number; latencies: number[]; codes: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const latencies: number[] = [];
    const codes: Record<string, number> = {};
    let i = 0;
    let sentAt = 0;
    let buf = '';
    const start = performance.now();
    const next = () => {
      if (i === n) {
        s.end();
        return resolve({ ms: performance.now() - start, latencies, codes });
      }
      sentAt = performance.now();
      s.write(frame(message(i++)));
    };
    s.on('connect', next);
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let end;
      while ((end = buf.indexOf('\x1c')) >= 0) {
        const ack = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const code = /MSA\|(\w\w)/.exec(ack)?.[1] ?? '??';
        codes[code] = (codes[code] ?? 0) + 1;
        latencies.push(performance.now() - sentAt);
        next();
      }
    });
    s.on('error', reject);
  });
}

function floorServer(): Promise<{ port: number; close: () => void }> {
  const ack = frame('MSH|^~\\&|FLOOR||||20261122000000||ACK|1|P|2.5.1\rMSA|AA|1');
  const server = net.createServer((c) => {
    let pending = Buffer.alloc(0);
    c.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      let end;
      while ((end = pending.indexOf(0x1c)) >= 0) {
        pending = pending.subarray(end + 2);
        c.write(ack);
      }
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ port: (server.address() as net.AddressInfo).port, close: () => server.close() })));
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
};

const port = await freePort();
const dir = benchConfigDir(
  'pb-bench-hl7-',
  `site: { id: bench, name: Bench Hospital }
box: { id: bench-box }
wards: [{ id: ward-3a, name: Ward 3A }]
timeZone: Asia/Ho_Chi_Minh
sources:
  - { id: adt, kind: hl7, listen: { host: 127.0.0.1, port: ${port} }, allowFrom: [127.0.0.1], facilities: [BVDEMO], wards: { "3A": ward-3a } }
web: { insecureHttp: true }
encryption: { keyFile: bench.key, createKey: true }
`,
  { 'ward-3a': `id: ward-3a\ntitle: Ward 3A\nschedule: { cron: "*/5 * * * *" }\nsource: adt\nscope: { ward: ward-3a, location: "3A" }\n` },
);
const agent = await openAgent({ configDir: dir, log: silentLogger(), withSources: true, listenHl7: true });
await (agent.sources.get('adt') as unknown as { started: Promise<unknown> }).started;
const rssBefore = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
const paperback = await drive(port, count);
const cpu = process.cpuUsage(cpu0);
const rssAfter = process.memoryUsage().rss;
const stored = agent.db.prepare(`SELECT status, COUNT(*) AS n FROM hl7_messages GROUP BY status`).all();
await agent.close();
const floor = await floorServer();
const bare = await drive(floor.port, count);
floor.close();

const perSecond = (r: { ms: number }) => Math.round((count / r.ms) * 1000);
console.log(
  JSON.stringify(
    {
      messages: count,
      oneConnection: {
        perSecond: perSecond(paperback),
        p50Ms: pct(paperback.latencies, 50),
        p99Ms: pct(paperback.latencies, 99),
        acks: paperback.codes,
        stored,
        cpuMsPerMessage: Math.round(((cpu.user + cpu.system) / 1000 / count) * 100) / 100,
        rssGrowthMb: Math.round((rssAfter - rssBefore) / 1048576),
      },
      floor: { perSecond: perSecond(bare), p50Ms: pct(bare.latencies, 50) },
      floorTimesFaster: Math.round((perSecond(bare) / perSecond(paperback)) * 10) / 10,
    },
    null,
    2,
  ),
);
