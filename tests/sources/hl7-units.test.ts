import { describe, expect, it } from 'vitest';
import { frameReader } from '../../agent/sources/hl7/framing.js';
import { formatDtm, parseDate, parseDtm } from '../../agent/sources/hl7/dtm.js';
import { decodeMessage } from '../../agent/sources/hl7/charset.js';
import { unescapeHl7 } from '../../agent/sources/hl7/escapes.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const D = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };

describe('MLLP frame reader', () => {
  it('finds a frame however TCP splits it, including between FS and CR', () => {
    const r = frameReader(1024);
    expect(r.push(b('\x0bMSH|a'))).toEqual([]);
    expect(r.push(b('bc\x1c'))).toEqual([{ kind: 'message', bytes: b('MSH|abc') }]);
    // The CR that ends the frame arrives alone: it is not junk.
    expect(r.push(b('\r\x0bMSH|2\x1c\r'))).toEqual([{ kind: 'message', bytes: b('MSH|2') }]);
    expect(r.unframed).toBe(false);
  });

  it('never merges two messages: a start byte inside a frame drops the partial one', () => {
    const r = frameReader(1024);
    expect(r.push(b('\x0bMSH|half\x0bMSH|whole\x1c\r'))).toEqual([
      { kind: 'discarded-partial', size: 8, bytes: b('MSH|half') },
      { kind: 'message', bytes: b('MSH|whole') },
    ]);
  });

  it('reports an oversize frame with its head only and goes on with the next', () => {
    const r = frameReader(4096);
    const big = `MSH|${'x'.repeat(10_000)}`;
    const out = r.push(b(`\x0b${big}\x1c\r\x0bMSH|next\x1c\r`));
    expect(out[0]).toMatchObject({ kind: 'oversize', size: big.length });
    expect((out[0] as { head: Buffer }).head.length).toBe(4096);
    expect(out[1]).toEqual({ kind: 'message', bytes: b('MSH|next') });
  });

  it('reports bytes outside frames, and tolerates line ends between frames', () => {
    const r = frameReader(1024);
    expect(r.push(b('\r\n'))).toEqual([]);
    expect(r.push(b('GET / HTTP/1.0\r\n'))).toEqual([{ kind: 'unframed', size: 14 }]);
    expect(r.unframed).toBe(true);
    r.push(b('\x0bMSH|x\x1c\r'));
    expect(r.unframed).toBe(false);
  });
});

describe('HL7 DTM, strictly', () => {
  it('refuses what does not exist, never rolling it over', () => {
    for (const v of ['20261301', '20260229', '20261122240000', '20261122236000', '20261122235960', '2026112', '20261122+2500', 'yesterday'])
      expect(parseDtm(v, 'UTC'), v).toHaveProperty('problem');
    expect(parseDtm('20240229', 'UTC')).toBe('2024-02-29T00:00:00.000Z');
  });

  it('reads a time without offset by the zone rules of its own date (summer time)', () => {
    expect(parseDtm('202607011200', 'Europe/Berlin')).toBe('2026-07-01T10:00:00.000Z');
    expect(parseDtm('202601011200', 'Europe/Berlin')).toBe('2026-01-01T11:00:00.000Z');
    expect(parseDtm('20261122120000.25+0530', 'Europe/Berlin')).toBe('2026-11-22T06:30:00.250Z');
  });

  it('keeps a birth date at the precision sent', () => {
    expect([parseDate('1956'), parseDate('195603'), parseDate('19560304'), parseDate('195603041230')]).toEqual(['1956', '1956-03', '1956-03-04', '1956-03-04']);
    expect(parseDate('19560231')).toHaveProperty('problem');
  });

  it('writes the ACK time with the box offset', () => {
    expect(formatDtm(new Date('2026-12-04T22:00:00Z'), 'Asia/Ho_Chi_Minh')).toBe('20261205050000+0700');
    expect(formatDtm(new Date('2026-12-04T22:00:00Z'), 'America/New_York')).toBe('20261204170000-0500');
  });
});

describe('character sets and escapes', () => {
  it('reads the declared set and refuses bytes that cannot be in it', () => {
    const msg = (set: string, name: Buffer) => Buffer.concat([b(`MSH|^~\\&|A|B|C|D|2026||ADT^A01|1|P|2.5.1||||||${set}\rPID|1||X||`), name]);
    expect(decodeMessage(msg('8859/1', b('M\xfcller')), 'UNICODE UTF-8')).toMatchObject({ charset: '8859/1', text: expect.stringContaining('Müller') });
    expect(decodeMessage(msg('', Buffer.from('Nguyễn', 'utf8')), 'UNICODE UTF-8')).toMatchObject({ text: expect.stringContaining('Nguyễn') });
    expect(decodeMessage(msg('', b('M\xfcller')), 'UNICODE UTF-8')).toMatchObject({ code: 102 });
    expect(decodeMessage(msg('8859/2', b('\xa3\xf3d\xbc')), 'ASCII')).toMatchObject({ text: expect.stringContaining('Łódź') });
    expect(decodeMessage(msg('UTF-16', b('x')), 'ASCII')).toMatchObject({ code: 103 });
  });

  it('decodes every escape of chapter 2.7 and refuses an unknown one', () => {
    expect(unescapeHl7('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f', D, 'ASCII')).toBe('a|b^c&d~e\\f');
    expect(unescapeHl7('\\H\\bold\\N\\ line\\.br\\two\\.sp\\', D, 'ASCII')).toBe('bold line\ntwo\n');
    expect(unescapeHl7('Ren\\XC3A9\\e', D, 'UNICODE UTF-8')).toBe('Renée');
    expect(unescapeHl7('Ren\\XE9\\e', D, '8859/1')).toBe('Renée');
    expect(() => unescapeHl7('Ren\\XE9\\e', D, 'UNICODE UTF-8')).toThrow(/not valid text in UNICODE UTF-8/);
    expect(() => unescapeHl7('a\\Q\\b', D, 'ASCII')).toThrow(/unknown escape/);
    expect(() => unescapeHl7('a\\Fb', D, 'ASCII')).toThrow(/not closed/);
  });
});
