import { describe, expect, it } from 'vitest';
import { composeName } from '../../agent/model/names.js';
import { DEFAULT_THRESHOLDS, initialLink, step, worst, type Link } from '../../agent/outage/state-machine.js';
import { censusDropHold } from '../../agent/schedule/run.js';
import { parseAdt } from '../../agent/sources/hl7/adt.js';
import { applyAdtEvent, refusal, type AdtRecord } from '../../agent/sources/hl7/adt-census.js';

/**
 * The pure logic, without peers: what the outage state machine, the census
 * drop guard, names and the ADT reader and census decide, one call at a time.
 * Part of `npm run test:unit`; the full suite proves the same through real
 * peers and printed PDFs.
 */
const T0 = new Date('2026-12-04T00:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

describe('the outage state machine', () => {
  const walk = (events: [number, boolean][]) => {
    let link: Link = initialLink(T0);
    const seen: string[] = [];
    for (const [s, ok] of events) {
      const r = step(link, { ok, detail: ok ? 'probe ok' : 'ECONNREFUSED', at: at(s) }, DEFAULT_THRESHOLDS);
      link = r.link;
      if (r.transition) seen.push(`${r.transition.from}→${r.transition.to}`);
    }
    return { link, seen };
  };

  it('needs three failures over a minute to call an outage, and three successes over a minute to end it', () => {
    expect(walk([[0, false], [15, false], [30, false]]).link.state).toBe('degraded');
    const down = walk([[0, false], [15, false], [30, false], [60, false]]);
    expect(down.seen).toEqual(['online→degraded', 'degraded→offline']);
    const back = walk([[0, false], [15, false], [30, false], [60, false], [75, true], [90, true], [105, true], [135, true]]);
    expect(back.seen).toEqual(['online→degraded', 'degraded→offline', 'offline→recovering', 'recovering→online']);
  });

  it('treats a lost packet as a blip and a flapping link as still down', () => {
    expect(walk([[0, false], [15, true]]).seen).toEqual(['online→degraded', 'degraded→online']);
    expect(walk([[0, false], [15, false], [30, false], [60, false], [75, true], [90, false]]).link.state).toBe('offline');
    expect(worst(['online', 'recovering', 'degraded'])).toBe('recovering');
  });
});

describe('the census drop guard', () => {
  const guard = { maxDropPercent: 50, minPatients: 4 };
  it('holds a census that lost more than half, or everyone; lets small wards and normal change through', () => {
    expect(censusDropHold(12, 4, guard)).toMatch(/fell from 12 to 4 patients \(67% fewer/);
    expect(censusDropHold(3, 0, guard)).toMatch(/no patients where the last good census had 3/);
    expect(censusDropHold(12, 6, guard)).toBeNull();
    expect(censusDropHold(3, 1, guard)).toBeNull();
    expect(censusDropHold(undefined, 0, guard)).toBeNull();
  });
});

describe('names in the site order', () => {
  it('writes family first with the middle name before the given one, or given first', () => {
    const n = { prefix: ['BS.'], family: 'Nguyễn', given: ['Thị', 'Hồng'], suffix: [] };
    expect(composeName(n, 'family-first')).toBe('BS. Nguyễn Thị Hồng');
    expect(composeName({ ...n, given: ['Hồng', 'Thị'] }, 'given-first')).toBe('BS. Hồng Thị Nguyễn');
  });
});

describe('ADT: reading and applying', () => {
  const msg = (type: string, pid3: string, pv1: string, evn = '20261204080000') => [`MSH|^~\\&|HIS|BV|PB|BV|20261204080000||ADT^${type}|C1|P|2.5.1`, `EVN|${type}|${evn}`, `PID|1||${pid3}||Lê^Lan`, `PV1|1|I|${pv1}`].join('\r');
  const o = { timeZone: 'Asia/Ho_Chi_Minh', nameOrder: 'family-first' as const };
  const wardOf = (l: { pointOfCare: string | null }) => (l.pointOfCare === '3A' ? 'ward-3a' : null);

  it('reads the event, its time in the box zone and the MRN by type', () => {
    const ev = parseAdt(msg('A01', '0791^^^BYT^NI~BV1^^^BV^MR', '3A^301^1'), o);
    expect(ev).toMatchObject({ type: 'A01', mrn: 'BV1', otherIds: [{ label: 'NI', value: '0791' }], eventTime: '2026-12-04T01:00:00.000Z', location: { pointOfCare: '3A', room: '301', bed: '1' } });
  });

  it('places, moves and discharges; an older event never undoes a newer one', () => {
    const a01 = parseAdt(msg('A01', 'BV1^^^BV^MR', '3A^301^1', '20261204080000'), o);
    let r: AdtRecord | null = applyAdtEvent(null, a01, a01, wardOf).next;
    expect(r).toMatchObject({ status: 'admitted', wardId: 'ward-3a' });
    const a03 = parseAdt(msg('A03', 'BV1^^^BV^MR', '3A^301^1', '20261204100000'), o);
    r = applyAdtEvent(r, a03, a03, wardOf).next;
    expect(r?.status).toBe('discharged');
    const lateA02 = parseAdt(msg('A02', 'BV1^^^BV^MR', '3A^305^1', '20261204090000'), o);
    expect(applyAdtEvent(r, lateA02, lateA02, wardOf).outcome).toBe('out-of-order');
    // And a transfer for a discharged patient is refused before it is stored.
    expect(refusal(lateA02, { first: r, second: null }, { ourWard: (l) => wardOf(l) !== null, admitWithoutBed: 'refuse' })).toMatchObject({ code: 204 });
  });
});
