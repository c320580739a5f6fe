import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { openAgent, type Agent } from '../../agent/cli/boot.js';
import { freePort } from '../../agent/demo/ipp-printer.js';
import { runJob } from '../../agent/schedule/run.js';
import { currentSnapshot, getArtifact } from '../../agent/store/snapshots.js';
import { buildWebServer } from '../../agent/web/server.js';
import { metricsRegistry } from '../../agent/web/metrics.js';
import { memoryLogger } from '../support/fixtures.js';
import { HAVE_MLLP_SEND, adt, hl7ConfigDir, rawExchange, send, type Ack } from '../support/hl7.js';
import { pdfText } from '../support/pdf-text.js';
import { NURSE, addTestUsers, signIn, type WebClient } from '../support/web.js';

/**
 * HL7 v2.5.1 conformance, as an interface analyst checks it before
 * connecting the engine: one row per rule of docs/hl7.md, sent with Debian's
 * mllp_send (raw sockets only for framing faults). Each row asserts the ACK,
 * its ERR, and the census that results, read from the printed census PDF and
 * the JSON API. The box runs in Asia/Ho_Chi_Minh (+0700), so times without
 * an offset are Vietnamese wall-clock times.
 */

const VT = '\x0b';
const END = '\x1c\r';
const msh = (id: string, type: string, extra = '') => `MSH|^~\\&|HIS|BVDEMO|PAPERBACK|BVDEMO|20261122080000||ADT^${type}^ADT_A01|${id}|P|2.5.1${extra}`;
const lines = (...segs: string[]) => segs.join('\r');

interface Box {
  a: Agent;
  port: number;
  app: FastifyInstance;
  nurse: WebClient;
}

async function openBox(opts: { sourceExtra?: string; facilities?: string; wards?: string }): Promise<Box> {
  const port = await freePort();
  const log = memoryLogger().log;
  const a = await openAgent({ configDir: hl7ConfigDir({ port, timeZone: 'Asia/Ho_Chi_Minh', ...opts }), log, withSources: true, listenHl7: true });
  await addTestUsers(a.db);
  const app = await buildWebServer({ config: () => a.config, db: a.db, blobs: a.blobs, log });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { a, port, app, nurse: await signIn(base, NURSE) };
}

/** The census as staff see it: a published snapshot's PDF text, and the JSON API (optionally searched). */
async function published(b: Box, q = ''): Promise<{ pdf: string; api: { mrn: string; name: string; bed: string | null }[] }> {
  const o = await runJob({ ...b.a, log: memoryLogger().log }, 'ward-3a', { trigger: 'manual' });
  expect(o.status).toBe('succeeded');
  const cur = currentSnapshot(b.a.db, 'ward-3a')!;
  const pdf = pdfText(b.a.blobs.get(getArtifact(b.a.db, cur.id, 'census')!.sha256)).text;
  const json = (await (await b.nurse.fetch(`/api/wards/ward-3a/census${q ? `?q=${encodeURIComponent(q)}` : ''}`)).json()) as { patients: { mrn: string; name: string; bedId: string | null }[] };
  return { pdf, api: json.patients.map((p) => ({ mrn: p.mrn, name: p.name, bed: p.bedId?.replace(/^bed-/, '') ?? null })) };
}

/** Send one message and check the ACK a sender would check: code, MSA-2 = MSH-10, and ERR for AE/AR. */
async function row(b: Box, message: string | Buffer, want: { code: 'AA' | 'AE' | 'AR'; err?: { code: string; location?: string; text?: RegExp } }): Promise<Ack> {
  const r = typeof message === 'string' ? await send(b.port, [message]) : await send(b.port, [], { raw: Buffer.concat([Buffer.from(VT), message, Buffer.from(END)]) });
  expect(r.acks, r.stderr).toHaveLength(1);
  const ack = r.acks[0]!;
  const text = typeof message === 'string' ? message : message.toString('latin1');
  const sentId = text.split(/\r\n|\r|\n/)[0]!.split('|')[9] ?? '';
  expect(ack.code, ack.raw).toBe(want.code);
  expect(ack.controlId).toBe(sentId);
  // MSH-7 of the ACK carries the box's offset.
  expect(ack.raw.split('|')[6]).toMatch(/^\d{14}\+0700$/);
  if (want.code === 'AA') expect(ack.err).toBeUndefined();
  else {
    expect(ack.err, ack.raw).toBeDefined();
    expect(ack.err!.code).toBe(want.err!.code);
    if (want.err!.location) expect(ack.err!.location).toBe(want.err!.location);
    if (want.err!.text) expect(ack.err!.text).toMatch(want.err!.text);
  }
  return ack;
}

const eventTime = (b: Box, id: string) => b.a.db.prepare('SELECT event_time FROM hl7_messages WHERE control_id = ?').pluck().get(id) as string | undefined;

describe.skipIf(!HAVE_MLLP_SEND)('HL7 v2.5.1 conformance of the ADT listener', () => {
  let b: Box;
  beforeAll(async () => {
    b = await openBox({ facilities: '', wards: '"3A": ward-3a, "2000": ward-3a' });
  });
  afterAll(async () => {
    await b?.app.close();
    await b?.a.close();
  });

  it('takes the chapter 3 example messages: A01 places Adam Everyman, A04 to an outpatient area places no one, A40 merges', async () => {
    // HL7 v2.5.1 chapter 3 examples as published (A01: 3.5.1 shape; A04: 3.5.3; A40: 3.6.2).
    const a01 = lines(
      'MSH|^~\\&|ADT1|GOOD HEALTH HOSPITAL|GHH LAB, INC.|GOOD HEALTH HOSPITAL|198808181126|SECURITY|ADT^A01^ADT_A01|MSG00001|P|2.5.1',
      'EVN|A01|200708181123||',
      'PID|1||PATID1234^5^M11^ADT1^MR^GOOD HEALTH HOSPITAL~123456789^^^USSSA^SS||EVERYMAN^ADAM^A^III||19610615|M||C|2222 HOME STREET^^GREENSBORO^NC^27401-1020|GL|(555) 555-2004|(555)555-2004||S||PATID12345001^2^M10^ADT1^AN^A|444333333|987654^NC|',
      'NK1|1|NUCLEAR^NELDA^W|SPO^SPOUSE||||NK^NEXT OF KIN',
      'PV1|1|I|2000^2012^01||||004777^ATTEND^AARON^A|||SUR||||ADM|A0|',
    );
    const a04 = lines(
      'MSH|^~\\&|REGADT|MCM|IFENG||199112311501||ADT^A04^ADT_A01|000001|P|2.5.1|||',
      'EVN|A04|200301101500|200301101400|01||200301101410',
      'PID|||191919^^^GENHOS^MR~371-66-9256^^^USSSA^SS|253763|MASSIE^JAMES^A||19560129|M|||171 ZOBER-LEIN^^ISHPEMING^MI^49849^""^||(900)485-5344|(900)485-5344||S|C|10199925^^^GENHOS^AN|371-66-9256||',
      'NK1|1|MASSIE^ELLEN|SPOUSE|171 ZOBERLEIN^^ISHPEMING^MI^49849^""^|(900)485-5344|(900)545-1234~(900)545-1200|EC1^FIRST EMERGENCY CONTACT',
      'PV1||O|O/R||||0148^ADDISON,JAMES|0148^ADDISON,JAMES|0148^ADDISON,JAMES|AMB|||||||0148^ADDISON,JAMES|S|1400|A|||||||||||||||||||GENHOS|||||199501101410|',
    );
    const a40 = lines('MSH|^~\\&|REGADT|MCM|RSP1P8|MCM|200301051530|SEC|ADT^A40^ADT_A39|00000003|P|2.5', 'EVN|A40|200301051530', 'PID|||MR1^^^XYZ||MAIDENNAME^EVE', 'MRG|MR2^^^XYZ');
    await row(b, a01, { code: 'AA' });
    await row(b, a04, { code: 'AA' });
    await row(b, a40, { code: 'AA' });
    const { pdf, api } = await published(b);
    // The MRN is the MR repetition, never the social security number beside it.
    // The box writes names family first (names.order), the middle name before the given one.
    expect(api).toEqual([{ mrn: 'PATID1234', name: 'EVERYMAN A ADAM III', bed: '2012-01' }]);
    expect(pdf).toContain('2012-01 EVERYMAN A ADAM III PATID1234');
    expect(pdf).not.toContain('MASSIE');
    expect(b.a.db.prepare("SELECT status FROM adt_patients WHERE mrn = 'MR2'").pluck().get()).toBe('merged');
  });

  it('swaps two patients (A17), updates a person without moving them (A31, A28), and merges one into another everywhere (A40)', async () => {
    await row(b, adt({ id: 'E1', type: 'A01', minute: 0, mrn: 'BV1', name: 'Lê^Lan', bed: '3A^301^1', al1: ['PEN^Penicillin'] }), { code: 'AA' });
    await row(b, adt({ id: 'E2', type: 'A01', minute: 1, mrn: 'BV2', name: 'Trần^Minh', bed: '3A^302^1' }), { code: 'AA' });
    const a17 = lines(msh('E3', 'A17'), 'EVN|A17|20261122083000', 'PID|1||BV1^^^BVDEMO^MR||Lê^Lan', 'PV1|1|I|3A^302^1', 'PID|2||BV2^^^BVDEMO^MR||Trần^Minh', 'PV1|1|I|3A^301^1');
    await row(b, a17, { code: 'AA' });
    await row(b, lines(msh('E4', 'A31'), 'EVN|A31|20261122083500', 'PID|1||BV2^^^BVDEMO^MR||Trần^Minh^Văn||19700101|M', 'PV1|1|N'), { code: 'AA' });
    await row(b, lines(msh('E5', 'A28'), 'EVN|A28|20261122083600', 'PID|1||BV3^^^BVDEMO^MR||Phạm^Hoa||19800101|F', 'PV1|1|N'), { code: 'AA' });
    let p = await published(b);
    expect(p.api.filter((x) => x.mrn.startsWith('BV'))).toEqual([
      { mrn: 'BV2', name: 'Trần Văn Minh', bed: '301-1' },
      { mrn: 'BV1', name: 'Lê Lan', bed: '302-1' },
    ]);
    expect(p.pdf).not.toContain('Phạm Hoa');

    // BV1 was a temporary MRN: merged into BV4, who takes the bed, the allergy and is found by the old number.
    await row(b, lines(msh('E6', 'A40').replace('ADT_A01', 'ADT_A39'), 'EVN|A40|20261122084000', 'PID|1||BV4^^^BVDEMO^MR||Lê^Lan', 'MRG|BV1^^^BVDEMO^MR'), { code: 'AA' });
    p = await published(b, 'BV1');
    expect(p.api).toEqual([{ mrn: 'BV4', name: 'Lê Lan', bed: '302-1' }]);
    expect(p.pdf).toContain('BV4');
    expect(p.pdf).not.toMatch(/\bBV1\b/);
    expect(p.pdf).toMatch(/Penicillin/);
    expect(b.a.db.prepare("SELECT COUNT(*) FROM hl7_messages WHERE mrn = 'BV1'").pluck().get()).toBe(0);
    // The retired MRN takes no more events.
    await row(b, adt({ id: 'E7', type: 'A08', minute: 60, mrn: 'BV1', bed: '3A^302^1' }), { code: 'AE', err: { code: '204', location: 'PID^1^3', text: /merged into another \(A40\)/ } });
    // One merge per message: a second PID/MRG pair is refused, not half-applied.
    await row(b, lines(msh('E7b', 'A40').replace('ADT_A01', 'ADT_A39'), 'EVN|A40|20261122085000', 'PID|1||BV4^^^BVDEMO^MR', 'MRG|BV90^^^BVDEMO^MR', 'PID|2||BV91^^^BVDEMO^MR', 'MRG|BV92^^^BVDEMO^MR'), { code: 'AE', err: { code: '100', location: 'PID^2', text: /one merge per A40 message/ } });
    // A swap with a patient who is not in a bed moves no one.
    const badSwap = lines(msh('E8', 'A17'), 'EVN|A17|20261122090000', 'PID|1||BV4^^^BVDEMO^MR', 'PV1|1|I|3A^309^1', 'PID|2||BV3^^^BVDEMO^MR', 'PV1|1|I|3A^302^1');
    await row(b, badSwap, { code: 'AE', err: { code: '204', location: 'PID^2^3', text: /patient 2 is not in a bed/ } });
  });

  it('answers events and messages it does not use with AR and ERR-3 from table 0357, and names the field of every AE', async () => {
    await row(b, adt({ id: 'R1', type: 'A09', minute: 0, mrn: 'BV5', bed: '3A^303^1' }), { code: 'AR', err: { code: '201', location: 'MSH^1^9^^2', text: /ADT event A09 is not one Paperback uses/ } });
    await row(b, adt({ id: 'R2', type: 'A01', minute: 0, mrn: 'BV5', bed: '3A^303^1' }).replace('ADT^A01^ADT_A01', 'ORU^R01^ORU_R01'), { code: 'AR', err: { code: '200', location: 'MSH^1^9^^1' } });
    await row(b, adt({ id: 'R3', type: 'A01', minute: 0, mrn: '', bed: '3A^303^1' }), { code: 'AE', err: { code: '101', location: 'PID^1^3', text: /PID-3 has no patient identifier/ } });
    await row(b, adt({ id: 'R4', type: 'A01', minute: 0, mrn: 'BV5' }), { code: 'AE', err: { code: '101', location: 'PV1^1^3', text: /without an assigned location/ } });
    // A message whose MSH is fine but whose body is not: MSA-2 still echoes MSH-10.
    await row(b, msh('R5', 'A01'), { code: 'AE', err: { code: '100', location: 'PID^1' } });
    const nothing = await send(b.port, [], { raw: Buffer.from(`${VT}not HL7 at all${END}`) });
    expect(nothing.acks[0]).toMatchObject({ code: 'AR', controlId: '', err: { code: '100' } });
    expect(nothing.acks[0]!.raw).toMatch(/^MSH\|\^~\\&\|PAPERBACK\|\|\|\|\d{14}\+0700\|\|ACK\|PB\w+\|P\|2\.5\.1\rMSA\|AR\|\|/);
  });

  it('refuses a transfer for a discharged patient until A13 or a new admit, and applies same-time events in arrival order', async () => {
    await row(b, adt({ id: 'O1', type: 'A01', minute: 100, mrn: 'BV6', name: 'Võ^An', bed: '3A^304^1' }), { code: 'AA' });
    await row(b, adt({ id: 'O2', type: 'A03', minute: 110, mrn: 'BV6', bed: '3A^304^1' }), { code: 'AA' });
    await row(b, adt({ id: 'O3', type: 'A02', minute: 120, mrn: 'BV6', bed: '3A^305^1' }), { code: 'AE', err: { code: '204', location: 'PID^1^3', text: /discharged: send A13 \(cancel discharge\) or a new admit first/ } });
    expect((await published(b)).api.map((x) => x.mrn)).not.toContain('BV6');
    await row(b, adt({ id: 'O4', type: 'A13', minute: 125, mrn: 'BV6', bed: '3A^304^1' }), { code: 'AA' });
    await row(b, adt({ id: 'O5', type: 'A02', minute: 130, mrn: 'BV6', bed: '3A^305^1' }), { code: 'AA' });
    // A cancelled admission (A11) is refused a transfer the same way.
    await row(b, adt({ id: 'O5b', type: 'A01', minute: 131, mrn: 'BV16', bed: '3A^316^1' }), { code: 'AA' });
    await row(b, adt({ id: 'O5c', type: 'A11', minute: 132, mrn: 'BV16', bed: '3A^316^1' }), { code: 'AA' });
    await row(b, adt({ id: 'O5d', type: 'A02', minute: 133, mrn: 'BV16', bed: '3A^317^1' }), { code: 'AE', err: { code: '204', text: /cancelled the admission of/ } });
    // Two transfers stamped with the same minute: the one that arrived last wins.
    const r = await send(b.port, [adt({ id: 'O6', type: 'A02', minute: 140, mrn: 'BV6', bed: '3A^306^1' }), adt({ id: 'O7', type: 'A02', minute: 140, mrn: 'BV6', bed: '3A^307^1' })]);
    expect(r.acks.map((x) => x.code)).toEqual(['AA', 'AA']);
    const p = await published(b);
    expect(p.api.find((x) => x.mrn === 'BV6')?.bed).toBe('307-1');
    expect(p.pdf).toContain('307-1 Nguyễn Thị Hồng BV6');
  });

  it('reads HL7 dates strictly: impossible dates are AE, partial precision and offsets are honoured, no offset is box time', async () => {
    const withEvn = (id: string, evn: string) => adt({ id, type: 'A08', minute: 0, mrn: 'BV6', bed: '3A^307^1' }).replace(/EVN\|A08\|\d+/, `EVN|A08|${evn}`);
    await row(b, withEvn('D1', '20261322083000'), { code: 'AE', err: { code: '102', location: 'EVN^1^2', text: /month 13 does not exist/ } });
    await row(b, withEvn('D2', '20261132083000'), { code: 'AE', err: { code: '102', location: 'EVN^1^2', text: /day 32 does not exist/ } });
    await row(b, withEvn('D3', '20261122253000'), { code: 'AE', err: { code: '102', location: 'EVN^1^2', text: /hour 25 does not exist/ } });
    await row(b, withEvn('D4', '20260230'), { code: 'AE', err: { code: '102', text: /day 30 does not exist in 2026-02/ } });
    await row(b, adt({ id: 'D5', type: 'A08', minute: 0, mrn: 'BV6', bed: '3A^307^1' }).replace('19560304', '19561304'), { code: 'AE', err: { code: '102', location: 'PID^1^7', text: /birth date: month 13/ } });
    await row(b, withEvn('D6', '202612011530'), { code: 'AA' });
    await row(b, withEvn('D7', '20261202'), { code: 'AA' });
    await row(b, withEvn('D8', '20261203093000-0500'), { code: 'AA' });
    await row(b, withEvn('D9', '20261204093000'), { code: 'AA' });
    expect([eventTime(b, 'D6'), eventTime(b, 'D7'), eventTime(b, 'D8'), eventTime(b, 'D9')]).toEqual(['2026-12-01T08:30:00.000Z', '2026-12-01T17:00:00.000Z', '2026-12-03T14:30:00.000Z', '2026-12-04T02:30:00.000Z']);
    expect(eventTime(b, 'D1')).toBeUndefined();
  });

  it('reads the bytes in the MSH-18 character set, refuses bytes that cannot be in it, and decodes escapes', async () => {
    const inSet = (id: string, mrn: string, charset: string, name: Buffer, bed: string) =>
      Buffer.concat([Buffer.from(`${msh(id, 'A01')}||||||${charset}\rEVN|A01|20261122090000\rPID|1||${mrn}^^^BVDEMO^MR||`), name, Buffer.from(`||19500101|M\rPV1|1|I|3A^${bed}`)]);
    await row(b, inSet('C1', 'BV7', '8859/1', Buffer.from('Müller^Jürgen', 'latin1'), '310^1'), { code: 'AA' });
    await row(b, inSet('C2', 'BV8', '8859/15', Buffer.from([0xbc, 0x75, 0x76, 0x72, 0x65, 0x5e, 0x41, 0x6e, 0x6e]), '311^1'), { code: 'AA' }); // 0xBC is Œ in 8859-15
    await row(b, inSet('C3', 'BV9', 'UNICODE UTF-8', Buffer.from([0x4e, 0xc3, 0x28, 0x5e, 0x41]), '312^1'), { code: 'AE', err: { code: '102', location: 'MSH^1^18', text: /not valid in the declared character set UNICODE UTF-8/ } });
    await row(b, inSet('C4', 'BV9', 'ASCII', Buffer.from('Ngô^Bảo', 'utf8'), '312^1'), { code: 'AE', err: { code: '102', location: 'MSH^1^18', text: /not ASCII/ } });
    // Windows-1252 curly quotes labelled 8859/1: refused, not printed as control characters.
    await row(b, inSet('C5', 'BV9', '8859/1', Buffer.from([0x93, 0x41, 0x94, 0x5e, 0x42]), '312^1'), { code: 'AE', err: { code: '102', text: /control code in ISO 8859-1/ } });
    await row(b, inSet('C6', 'BV9', 'EBCDIC', Buffer.from('X^Y'), '312^1'), { code: 'AR', err: { code: '103', location: 'MSH^1^18' } });
    // No MSH-18: the source's default (UTF-8).
    await row(b, inSet('C7', 'BV10', '', Buffer.from('Đặng^Thị Ngọc', 'utf8'), '313^1'), { code: 'AA' });
    // Escapes: \T\ is &, \S\ is ^, \F\ is |, \E\ is \, \Xhh\ is bytes in the set; highlighting and line breaks carry no text.
    await row(b, inSet('C8', 'BV11', '8859/1', Buffer.from('SMITH\\T\\JONES^ANNE\\H\\MARIE\\N\\^REN\\XE9\\E', 'latin1'), '314^1'), { code: 'AA' });
    // The same name in UTF-8 (no MSH-18), where é is two bytes; AL1 text with a line break and escaped delimiters.
    await row(b, adt({ id: 'C9', type: 'A08', minute: 600, mrn: 'BV11', bed: '3A^314^1', name: 'SMITH\\T\\JONES^ANNE\\H\\MARIE\\N\\^REN\\XC3A9\\E', al1: ['^Amoxicillin\\.br\\clavulanate \\F\\ 1\\S\\2'] }), { code: 'AA' });
    await row(b, inSet('C10', 'BV12', '', Buffer.from('BAD\\Q\\ESC^A'), '315^1'), { code: 'AE', err: { code: '102', location: 'PID^1^5^^1', text: /unknown escape sequence/ } });
    const p = await published(b);
    const names = Object.fromEntries(p.api.map((x) => [x.mrn, x.name]));
    expect(names).toMatchObject({ BV7: 'Müller Jürgen', BV8: 'Œuvre Ann', BV10: 'Đặng Thị Ngọc', BV11: 'SMITH&JONES RENéE ANNEMARIE' });
    expect(names.BV9).toBeUndefined();
    expect(p.pdf).toContain('Müller Jürgen');
    expect(p.pdf).toContain('Œuvre Ann');
    expect(p.pdf).toContain('SMITH&JONES RENéE ANNEMARIE');
    expect(p.pdf).not.toContain('\\T\\');
    expect(p.pdf).toContain('Amoxicillin clavulanate | 1^2');
    // C3, C4 and C5 are kept, sealed, with the reason: nothing is lost, nothing is guessed.
    expect(b.a.db.prepare("SELECT COUNT(*) FROM hl7_quarantine WHERE reason LIKE '%declared character set%'").pluck().get()).toBe(3);
  });

  it('keeps MLLP frames apart: a start byte inside a frame discards the partial one; unframed bytes close the peer', async () => {
    const full = adt({ id: 'F2', type: 'A08', minute: 400, mrn: 'BV6', bed: '3A^307^1' }).replace(/\r\n/g, '\r');
    const partial = adt({ id: 'F1', type: 'A01', minute: 400, mrn: 'BV13', bed: '3A^320^1' }).replace(/\r\n/g, '\r').slice(0, 80);
    const r = await rawExchange(b.port, [Buffer.from(VT + partial), Buffer.from(VT + full + END)], 1);
    expect(r.acks.map((x) => [x.code, x.controlId])).toEqual([['AA', 'F2']]);
    expect(b.a.db.prepare("SELECT COUNT(*) FROM hl7_messages WHERE control_id = 'F1'").pluck().get()).toBe(0);
    expect(b.a.db.prepare("SELECT COUNT(*) FROM adt_patients WHERE mrn = 'BV13'").pluck().get()).toBe(0);
    // Nothing is lost: the partial frame is kept in quarantine, marked as never answered, and counted for monitoring.
    expect(b.a.db.prepare("SELECT ack_code, reason FROM hl7_quarantine WHERE reason LIKE 'partial frame%'").all()).toEqual([{ ack_code: 'none', reason: expect.stringMatching(/new frame started before its end/) }]);
    const metrics = await metricsRegistry({ config: () => b.a.config, db: b.a.db }).metrics();
    expect(metrics).toMatch(/paperback_hl7_quarantined\{source="adt",ack="none"\} 1/);
    expect(metrics).toMatch(/paperback_hl7_messages\{source="adt",status="applied"\} \d+/);
    // When the feed last spoke, for the fleet's "HL7 feed silent" alert: the message just stored, within a minute.
    const last = Number(/paperback_hl7_last_message_timestamp_seconds\{source="adt"\} (\d+)/.exec(metrics)?.[1]);
    expect(Math.abs(last - Date.now() / 1000)).toBeLessThan(60);
  });
});

describe.skipIf(!HAVE_MLLP_SEND)('HL7 listener options: the MRN rule, admits without a bed, the size limit', () => {
  let b: Box;
  beforeAll(async () => {
    b = await openBox({ sourceExtra: '    mrn: { type: MR, authority: BVDEMO }\n    admitWithoutBed: unassigned\n    maxMessageBytes: 8192\n    unframedTimeoutSeconds: 1\n' });
  });
  afterAll(async () => {
    await b?.app.close();
    await b?.a.close();
  });

  it('takes the MRN by assigning authority and type, keeps the other identifiers searchable, and refuses a list without it', async () => {
    const m = (id: string, pid3: string, bed: string) => lines(msh(id, 'A01'), 'EVN|A01|20261122090000', `PID|1||${pid3}||Hồ^Xuân^Thị||19800101|F`, `PV1|1|I|3A^${bed}`);
    await row(b, m('M1', '079180001234^^^BYT^NI~BV20^^^BVDEMO^MR~HS4010123456789^^^BHXH^HC', '401^1'), { code: 'AA' });
    await row(b, m('M2', 'BV21^^^OTHERHOSP^MR', '402^1'), { code: 'AE', err: { code: '204', location: 'PID^1^3', text: /no identifier of type MR, assigning authority BVDEMO/ } });
    const byNationalId = await published(b, '079180001234');
    expect(byNationalId.api).toEqual([{ mrn: 'BV20', name: 'Hồ Thị Xuân', bed: '401-1' }]);
    expect(byNationalId.pdf).toContain('BV20');
    expect(byNationalId.pdf).not.toContain('079180001234');
    expect((await published(b, 'HS4010123456789')).api.map((x) => x.mrn)).toEqual(['BV20']);
  });

  it('lists an admit without a bed under "no bed assigned" when the source says so', async () => {
    await row(b, adt({ id: 'N1', type: 'A01', minute: 0, mrn: 'BV22', name: 'Lý^Tâm', bed: '3A' }), { code: 'AA' });
    const p = await published(b);
    expect(p.api.find((x) => x.mrn === 'BV22')).toMatchObject({ bed: null });
    expect(p.pdf).toMatch(/Patients on this ward with no bed assigned.*Lý Tâm/);
  });

  it('answers an oversize frame AR with ERR, quarantines it, and keeps the connection for the next message', async () => {
    const big = `${adt({ id: 'S1', type: 'A08', minute: 0, mrn: 'BV22', bed: '3A' }).replace(/\r\n/g, '\r')}\rNTE|1||${'x'.repeat(20_000)}`;
    const next = adt({ id: 'S2', type: 'A08', minute: 1, mrn: 'BV22', bed: '3A' }).replace(/\r\n/g, '\r');
    const r = await rawExchange(b.port, [Buffer.from(VT + big + END), Buffer.from(VT + next + END)], 2);
    expect(r.acks.map((x) => [x.code, x.controlId])).toEqual([
      ['AR', 'S1'],
      ['AA', 'S2'],
    ]);
    expect(r.acks[0]!.err).toMatchObject({ code: '207', text: expect.stringMatching(/over this listener's limit of 8192 bytes/) });
    expect(b.a.db.prepare("SELECT COUNT(*) FROM hl7_quarantine WHERE reason LIKE '%over this listener''s limit%'").pluck().get()).toBe(1);
  });

  it('closes a connection that sends bytes outside MLLP frames once the timeout passes', async () => {
    const r = await rawExchange(b.port, [Buffer.from('GET / HTTP/1.0\r\n\r\n')], 1, 5000);
    expect(r.closed).toBe(true);
    expect(r.acks).toEqual([]);
  });
});
