import { describe, expect, it } from 'vitest';
import { DEFAULT_STANDARD_TIMES, dueTimes } from '../../agent/model/due-times.js';
import { drugClassesOf, allergyConflicts } from '../../agent/model/drug-classes.js';
import type { MedicationOrder, OrderTiming } from '../../agent/model/ward.js';

/** Pure rules, no peers: when doses fall due, and which drugs share a class with an allergy. */
const TZ = 'Asia/Ho_Chi_Minh';
const FROM = new Date('2026-11-25T03:00:00Z'); // Wednesday 10:00 in Hà Nội
const timing = (t: Partial<OrderTiming>): OrderTiming => ({ code: null, frequency: null, frequencyMax: null, period: null, periodMax: null, periodUnit: null, when: [], offsetMinutes: null, dayOfWeek: [], count: null, boundsStart: null, boundsEnd: null, boundsDuration: null, ...t });
const order = (o: Partial<MedicationOrder>): MedicationOrder => ({ id: 'o', drug: 'Drug', dose: null, route: null, frequency: null, scheduledTimes: [], prn: false, prnReason: null, start: null, end: null, orderedBy: null, highAlert: false, status: 'active', instructions: null, ...o });
const times = (o: MedicationOrder) => dueTimes(o, FROM, TZ).slots.map((s) => `${s.date.slice(5)} ${s.time}`);

describe('due times', () => {
  it('gives an order its own times in the next 24 h, the ones after midnight on their date', () => {
    expect(times(order({ scheduledTimes: ['08:00', '20:00', '02:00'] }))).toEqual(['11-25 20:00', '11-26 02:00', '11-26 08:00']);
  });

  it('gives a frequency-only order the standard times, as many as doses, and says they are standard', () => {
    const p = dueTimes(order({ timing: timing({ frequency: 4, period: 1, periodUnit: 'd' }) }), FROM, TZ);
    expect(p.source).toBe('standard');
    expect(p.slots.map((s) => s.time)).toEqual(['12:00', '18:00', '22:00', '06:00']);
    expect(times(order({ timing: timing({ code: 'BID' }) }))).toEqual(['11-25 20:00', '11-26 08:00']);
    expect(times(order({ timing: timing({ frequency: 1, period: 8, periodUnit: 'h' }) }))).toEqual(['11-25 14:00', '11-25 22:00', '11-26 06:00']);
    expect(times(order({ timing: timing({ when: ['HS'] }) }))).toEqual(['11-25 21:00']);
  });

  it('uses the site table over the defaults', () => {
    const p = dueTimes(order({ timing: timing({ frequency: 2, period: 1, periodUnit: 'd' }) }), FROM, TZ, { ...DEFAULT_STANDARD_TIMES, '2/d': ['09:00', '21:00'] });
    expect(p.slots.map((s) => s.time)).toEqual(['21:00', '09:00']);
  });

  it('prints no time for on-hold, do-not-give, PRN, ended, not-yet-started, other-day and timed-in-words orders, and says why', () => {
    const daily = { timing: timing({ frequency: 1, period: 1, periodUnit: 'd' as const }) };
    const why = (o: Partial<MedicationOrder>) => dueTimes(order({ ...daily, ...o }), FROM, TZ).none;
    expect(why({ status: 'on-hold' })).toBe('on-hold');
    expect(why({ doNotPerform: true })).toBe('do-not-perform');
    expect(why({ prn: true })).toBe('prn');
    expect(why({ timing: timing({ frequency: 1, period: 1, periodUnit: 'd', boundsEnd: '2026-11-24' }) })).toBe('ended');
    expect(why({ timing: timing({ frequency: 1, period: 1, periodUnit: 'd', boundsStart: '2026-11-27' }) })).toBe('not-started');
    expect(why({ timing: timing({ frequency: 3, period: 1, periodUnit: 'wk' }) })).toBe('check-days');
    expect(why({ timing: timing({ frequency: 1, period: 2, periodUnit: 'd' }) })).toBe('check-days');
    expect(why({ instructions: '15 units before lunch' })).toBe('no-times');
    expect(why({ timing: timing({ frequency: 1, period: 15, periodUnit: 'min' }) })).toBe('too-frequent');
    expect(why({ timing: timing({ frequency: 1, period: 4, periodMax: 6, periodUnit: 'h' }) })).toBe('no-times');
    expect(why({ timing: timing({ count: 1 }) })).toBe('single-dose');
  });

  it('gives a Mondays-only order its dose on Monday only', () => {
    const mon = order({ timing: timing({ frequency: 1, period: 1, periodUnit: 'wk', dayOfWeek: ['mon'] }) });
    expect(dueTimes(mon, FROM, TZ).none).toBe('not-this-window');
    const sunday = new Date('2026-11-29T03:00:00Z'); // Sunday 10:00: Monday 08:00 is in the window
    expect(dueTimes(mon, sunday, TZ).slots.map((s) => `${s.date} ${s.time}`)).toEqual(['2026-11-30 08:00']);
  });

  it('starts a course part-way through the window', () => {
    const o = order({ scheduledTimes: ['08:00', '20:00'], timing: timing({ frequency: 2, period: 1, periodUnit: 'd', boundsStart: '2026-11-26' }) });
    expect(times(o)).toEqual(['11-26 08:00']);
  });
});

describe('drug classes', () => {
  it('finds a class by ATC, RxNorm or name, in English or Vietnamese', () => {
    expect([...drugClassesOf('Amoxil', ['http://www.whocc.no/atc|J01CA04'])]).toEqual(['beta-lactam']);
    expect([...drugClassesOf('Penicillin G', ['http://www.nlm.nih.gov/research/umls/rxnorm|7980'])]).toEqual(['beta-lactam']);
    expect([...drugClassesOf('Ceftriaxone 1 g injection')]).toEqual(['beta-lactam']);
    expect([...drugClassesOf('Thuốc cản quang Omnipaque')]).toEqual(['iodinated-contrast']);
    expect(drugClassesOf('Paracetamol 500 mg').size).toBe(0);
    expect(drugClassesOf('Penicillamine 250 mg').size).toBe(0);
  });

  it('flags an order that shares a class with an allergy, but never a do-not-give order', () => {
    const allergy = { substance: 'Penicillin', reaction: null, severity: null, criticality: null, category: null };
    expect(allergyConflicts(order({ drug: 'Cefazolin 1 g' }), [allergy])).toEqual([{ allergy: 'Penicillin', drugClass: 'beta-lactam' }]);
    expect(allergyConflicts(order({ drug: 'Cefazolin 1 g', doNotPerform: true }), [allergy])).toEqual([]);
    expect(allergyConflicts(order({ drug: 'Vancomycin 1 g' }), [allergy])).toEqual([]);
  });
});

describe('high-alert', () => {
  it('finds high-alert drugs by ATC class or RxNorm ingredient whatever their name, and by the site list', async () => {
    const { isHighAlertDrug, onSiteHighAlertList } = await import('../../agent/model/high-alert.js');
    expect(isHighAlertDrug('Clexane 40', ['http://www.whocc.no/atc|B01AB05'])).toBe(true);
    expect(isHighAlertDrug('Lantus', ['http://www.nlm.nih.gov/research/umls/rxnorm|274783'])).toBe(true);
    expect(isHighAlertDrug('Paracetamol 500 mg', ['http://www.whocc.no/atc|N02BE01'])).toBe(false);
    expect(onSiteHighAlertList('Vancomycin 1 g', [], { names: ['vancomycin'] })).toBe(true);
    expect(onSiteHighAlertList('Brand X', ['http://www.whocc.no/atc|J01XA01'], { atc: ['J01XA'] })).toBe(true);
    expect(onSiteHighAlertList('Paracetamol', [], { atc: ['J01XA'], names: ['vancomycin'] })).toBe(false);
  });
});
