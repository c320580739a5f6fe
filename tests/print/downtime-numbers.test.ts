import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../agent/config/load.js';
import { openDb } from '../../agent/store/db.js';
import { importNumbers, issueDowntimeNumber, issuedNumbers, mapDowntimeNumber, numberUsage, syncConfiguredRanges } from '../../agent/store/downtime-numbers.js';
import { runCli, startHis, tmpDir, writeConfigDir } from '../support/fixtures.js';

const RANGES = 'downtimeNumbers: { ranges: [ { prefix: "DT3A-", from: 1, to: 3, digits: 4 } ] }\n';

function configDir(extra = RANGES): string {
  return writeConfigDir(tmpDir(), { baseUrl: 'http://127.0.0.1:9', extraSource: extra });
}

describe('downtime numbers', () => {
  it('issues each number once, in order, across restarts, and says so when none are left', () => {
    const dir = configDir();
    const cfg = loadConfig(dir);
    let db = openDb(cfg.dataDir);
    expect(syncConfiguredRanges(db, cfg.box.downtimeNumbers.ranges)).toEqual({ added: 3, withdrawn: 0 });
    const now = new Date('2026-12-05T02:00:00Z');
    expect([issueDowntimeNumber(db, { by: 'lan', admissionSha256: null, now }), issueDowntimeNumber(db, { by: 'lan', admissionSha256: null, now })]).toEqual(['DT3A-0001', 'DT3A-0002']);
    db.close();
    // A restart syncs the same ranges again: nothing issued becomes free.
    db = openDb(cfg.dataDir);
    expect(syncConfiguredRanges(db, cfg.box.downtimeNumbers.ranges)).toEqual({ added: 0, withdrawn: 0 });
    expect(issueDowntimeNumber(db, { by: 'minh', admissionSha256: null, now })).toBe('DT3A-0003');
    expect(numberUsage(db)).toEqual({ total: 3, issued: 3, free: 0, percentUsed: 100 });
    expect(() => issueDowntimeNumber(db, { by: 'minh', admissionSha256: null, now })).toThrow(/no downtime numbers left/);
    // The office sends a new range and the old one is taken out of the config: the issued numbers stay, never reissued.
    const next = [{ prefix: 'DT3B-', from: 10, to: 11, digits: 3 }];
    expect(syncConfiguredRanges(db, next)).toEqual({ added: 2, withdrawn: 0 });
    expect(issueDowntimeNumber(db, { by: 'minh', admissionSha256: null, now })).toBe('DT3B-010');
    expect(issuedNumbers(db).map((n) => n.number)).toEqual(['DT3A-0001', 'DT3A-0002', 'DT3A-0003', 'DT3B-010']);
    // A range dropped while some of it is still free: the free ones are withdrawn, not handed out later.
    expect(syncConfiguredRanges(db, [])).toEqual({ added: 0, withdrawn: 1 });
    expect(numberUsage(db)).toMatchObject({ total: 4, free: 0 });
    db.close();
  });

  it('two connections to one store never issue the same number', () => {
    const dir = configDir('downtimeNumbers: { ranges: [ { prefix: "N", from: 1, to: 200, digits: 3 } ] }\n');
    const cfg = loadConfig(dir);
    const one = openDb(cfg.dataDir);
    const two = openDb(cfg.dataDir);
    syncConfiguredRanges(one, cfg.box.downtimeNumbers.ranges);
    const now = new Date();
    const got: string[] = [];
    for (let i = 0; i < 100; i++) got.push(issueDowntimeNumber(i % 2 ? one : two, { by: 'x', admissionSha256: null, now }));
    expect(new Set(got).size).toBe(100);
    expect(numberUsage(two)).toMatchObject({ issued: 100, free: 100, percentUsed: 50 });
    one.close();
    two.close();
  });

  it('imports the registration office’s list, naming a bad line, and maps each number to one HIS record only', () => {
    const dir = configDir('');
    const db = openDb(loadConfig(dir).dataDir);
    expect(() => importNumbers(db, 'number\nDT-1001\nDT 1002\n', 'office.csv')).toThrow(/office\.csv: line 3: "DT 1002" is not a downtime number/);
    expect(numberUsage(db).total).toBe(0); // nothing of a bad file is kept
    expect(importNumbers(db, '\uFEFFnumber,note\nDT-1001,ward 3A\r\nDT-1002,ward 3A\r\n', 'office.csv')).toEqual({ added: 2, known: 0 });
    expect(importNumbers(db, 'DT-1002\nDT-1003\n', 'more.txt')).toEqual({ added: 1, known: 1 });
    const now = new Date();
    const n = issueDowntimeNumber(db, { by: 'lan', admissionSha256: null, now });
    expect(n).toBe('DT-1001');
    expect(mapDowntimeNumber(db, n, { mrn: 'MRN-77', by: 'registration', now })).toBe('mapped');
    expect(mapDowntimeNumber(db, n, { mrn: 'MRN-77', by: 'registration', now })).toBe('unchanged');
    expect(() => mapDowntimeNumber(db, n, { mrn: 'MRN-78', by: 'registration', now })).toThrow(/already mapped to another HIS record/);
    expect(() => mapDowntimeNumber(db, 'DT-1002', { mrn: 'MRN-79', by: 'registration', now })).toThrow(/never issued/);
    expect(() => mapDowntimeNumber(db, 'DT-9999', { mrn: 'MRN-79', by: 'registration', now })).toThrow(/not one of this box's/);
    expect(issuedNumbers(db)[0]).toMatchObject({ number: 'DT-1001', hisMrn: 'MRN-77', mappedBy: 'registration' });
    db.close();
  });

  it('refuses a range in paperback.yaml that runs backwards, naming the field', () => {
    const dir = configDir('downtimeNumbers: { ranges: [ { prefix: "DT-", from: 10, to: 2 } ] }\n');
    expect(() => loadConfig(dir)).toThrow(/paperback\.yaml:\d+: downtimeNumbers\.ranges\.0\.to: to must not be below from/);
  });

  it('`paperback numbers` imports, reports, maps and warns from the command line', async () => {
    const dir = configDir('downtimeNumbers: { ranges: [ { prefix: "DT-", from: 1, to: 4 } ], warnAtPercent: 50 }\n');
    const cfg = loadConfig(dir);
    const db = openDb(cfg.dataDir);
    syncConfiguredRanges(db, cfg.box.downtimeNumbers.ranges);
    for (let i = 0; i < 2; i++) issueDowntimeNumber(db, { by: 'lan', admissionSha256: null, now: new Date() });
    db.close();
    const status = await runCli(['--config', dir, 'numbers', 'status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/2 of 4 downtime numbers free \(50% used\) — ASK THE REGISTRATION OFFICE FOR A NEW RANGE/);
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'X-1\nnot a number\n');
    const refused = await runCli(['--config', dir, 'numbers', 'import', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/bad\.csv: line 2: "not a number"/);
    const map = path.join(dir, 'map.csv');
    fs.writeFileSync(map, 'number,mrn\nDT-0001,H-100\nDT-0003,H-101\n');
    const mapped = await runCli(['--config', dir, 'numbers', 'map', map]);
    expect(mapped.code).toBe(1);
    expect(mapped.stdout).toMatch(/mapped 1 downtime number/);
    expect(mapped.stderr).toMatch(/line 3: downtime number DT-0003 was never issued/);
    const json = JSON.parse((await runCli(['--config', dir, 'numbers', 'status', '--json'])).stdout);
    expect(json.issued.map((n: { number: string; hisMrn: string | null }) => [n.number, n.hisMrn])).toEqual([
      ['DT-0001', 'H-100'],
      ['DT-0002', null],
    ]);
  });

  it('reads back from the HIS (FHIR) which record each downtime number became', async () => {
    const { server } = await startHis({ patients: 2 });
    try {
      // Registration created the real record after recovery and kept the downtime number on it.
      await server.repo.createResource({
        resourceType: 'Patient',
        identifier: [
          { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, value: 'H-900' },
          { system: 'urn:example:downtime-number', value: 'DT-0002' },
        ],
        name: [{ family: 'Trần', given: ['Văn', 'Bình'] }],
      });
      const dir = writeConfigDir(tmpDir(), { baseUrl: server.url, extraSource: 'downtimeNumbers: { ranges: [ { prefix: "DT-", from: 1, to: 3 } ] }\n' });
      const cfg = loadConfig(dir);
      const db = openDb(cfg.dataDir);
      syncConfiguredRanges(db, cfg.box.downtimeNumbers.ranges);
      for (let i = 0; i < 2; i++) issueDowntimeNumber(db, { by: 'lan', admissionSha256: null, now: new Date() });
      db.close();
      const r = await runCli(['--config', dir, 'numbers', 'map', '--from', 'his']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/mapped 1 of 2 unmapped downtime number\(s\) from his; 1 not on any HIS record yet/);
      const json = JSON.parse((await runCli(['--config', dir, 'numbers', 'status', '--json'])).stdout);
      expect(json.issued.map((n: { number: string; hisMrn: string | null }) => [n.number, n.hisMrn])).toEqual([
        ['DT-0001', null],
        ['DT-0002', 'H-900'],
      ]);
    } finally {
      await server.close();
    }
  });
});
