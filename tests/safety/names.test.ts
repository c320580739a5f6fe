import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FALLBACK_FILES } from '../../agent/render/font-files.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFhirServer, type FhirTestServer } from '../../agent/demo/fhir-server.js';
import { initials } from '../../agent/model/helpers.js';
import { composeName } from '../../agent/model/names.js';
import { DATASETS } from '../../agent/model/ward.js';
import { renderSnapshotDocuments } from '../../agent/render/snapshot-documents.js';
import { censusRow, censusToPatients, parseRows } from '../../agent/sources/dropfolder/formats.js';
import { createFhirSource } from '../../agent/sources/fhir/index.js';
import { parseAdt } from '../../agent/sources/hl7/adt.js';
import { jobYaml, openTestAgent, REPO, runByHandOnly, tmpDir, writeConfigDir } from '../support/fixtures.js';
import { runJob } from '../../agent/schedule/run.js';
import { currentSnapshot, getArtifact } from '../../agent/store/snapshots.js';
import { pdfText } from '../support/pdf-text.js';

/**
 * Names the source sends in parts are written in the site's order
 * (names.order; family-first by default for Vietnamese paper), from FHIR,
 * HL7 XPN and drop-folder rows alike, and read back from the printed census.
 */
const NOW = new Date('2026-11-22T03:00:00Z');
const ref = (type: string, id: string) => ({ reference: `${type}/${id}` });

let server: FhirTestServer;
beforeAll(async () => {
  server = await startFhirServer({});
  const bd = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'bd' }] };
  const patients = [
    // Parts only: no text.
    { resourceType: 'Patient', id: 'p1', name: [{ use: 'official', family: 'Nguyễn', given: ['Thị', 'Hồng'] }] },
    // A nickname written as text must not win over the official name; prefix and suffix kept.
    { resourceType: 'Patient', id: 'p2', name: [{ use: 'nickname', text: 'Bobby' }, { use: 'official', prefix: ['Dr.'], family: 'Smith', given: ['Robert', 'James'], suffix: ['Jr.'] }] },
    // Usual before an old name.
    { resourceType: 'Patient', id: 'p3', name: [{ use: 'old', family: 'Lê', given: ['Mai'] }, { use: 'usual', family: 'Trần', given: ['Thu', 'Hà'] }] },
    // Scripts DejaVu does not have (drawn with Debian's fallback fonts), one it has, and one no font here has.
    { resourceType: 'Patient', id: 'p4', name: [{ use: 'official', text: '山田 太郎 (Yamada Taro)' }] },
    { resourceType: 'Patient', id: 'p5', name: [{ use: 'official', text: 'Иван Петров' }] },
    { resourceType: 'Patient', id: 'p6', name: [{ use: 'official', text: 'สมชาย ใจดี' }] },
    { resourceType: 'Patient', id: 'p7', name: [{ use: 'official', text: 'Test 𓀀 Glyph' }] },
  ];
  await server.load([
    { resourceType: 'Location', id: 'w', name: 'W', status: 'active' },
    ...patients.flatMap((p, i) => [
      p,
      { resourceType: 'Location', id: `b${i}`, name: `B${i + 1}`, status: 'active', partOf: ref('Location', 'w'), physicalType: bd },
      { resourceType: 'Encounter', id: `e${i}`, status: 'in-progress', class: { code: 'IMP' }, subject: ref('Patient', p.id), location: [{ location: ref('Location', `b${i}`), status: 'active' }] },
    ]),
  ] as never[]);
}, 60_000);
afterAll(async () => {
  await server?.close();
});

async function censusWithFonts(nameOrder: 'family-first' | 'given-first', language: 'vi' | 'en'): Promise<{ text: string; fonts: string }> {
  const source = createFhirSource({ id: 'his', kind: 'fhir', baseUrl: server.url, auth: { kind: 'none' }, timeoutMs: 5000, maxResponseBytes: 1e7, maxConcurrency: 2, retries: 0, pageSize: 100, censusShrinkWarning: 0.3, fullPullEveryMinutes: 0 } as never, { configDir: '/tmp', backoffMs: 10 });
  const { snapshot } = await source.pull({ ward: { id: 'w', name: 'W' }, location: 'Location/w', datasets: DATASETS, now: NOW, signal: AbortSignal.timeout(30_000), nameOrder });
  const docs = await renderSnapshotDocuments(snapshot, { documents: ['census'], language, timeZone: 'Asia/Ho_Chi_Minh', hospital: 'H', templatesDir: path.join(REPO, 'templates') }, { renderedAt: NOW });
  const pdf = docs.find((d) => d.meta.address === 'census')!.content!;
  const file = path.join(tmpDir('pb-fonts-'), 'census.pdf');
  fs.writeFileSync(file, pdf);
  return { text: pdfText(pdf).text, fonts: execFileSync('pdffonts', [file]).toString() };
}

async function census(nameOrder: 'family-first' | 'given-first', language: 'vi' | 'en'): Promise<string> {
  const source = createFhirSource({ id: 'his', kind: 'fhir', baseUrl: server.url, auth: { kind: 'none' }, timeoutMs: 5000, maxResponseBytes: 1e7, maxConcurrency: 2, retries: 0, pageSize: 100, censusShrinkWarning: 0.3, fullPullEveryMinutes: 0 } as never, { configDir: '/tmp', backoffMs: 10 });
  const { snapshot } = await source.pull({ ward: { id: 'w', name: 'W' }, location: 'Location/w', datasets: DATASETS, now: NOW, signal: AbortSignal.timeout(30_000), nameOrder });
  const docs = await renderSnapshotDocuments(snapshot, { documents: ['census'], language, timeZone: 'Asia/Ho_Chi_Minh', hospital: 'H', templatesDir: path.join(REPO, 'templates') }, { renderedAt: NOW });
  return pdfText(docs.find((d) => d.meta.address === 'census')!.content!).text;
}

describe('names in the site order', () => {
  it('writes names in capitals when the site asks (names.capitals), every Vietnamese mark kept, on the printed census', async () => {
    const dir = writeConfigDir(tmpDir(), { baseUrl: server.url, wards: ['w'], jobs: { w: runByHandOnly(jobYaml('w')) } });
    const yaml = path.join(dir, 'paperback.yaml');
    fs.writeFileSync(yaml, fs.readFileSync(yaml, 'utf8').replace('names: { order: family-first }', 'names: { order: family-first, capitals: true }').replace('language: en', 'language: vi'));
    const a = openTestAgent(dir);
    const o = await runJob(a, 'w', { trigger: 'manual' });
    expect(o.status, o.error ?? '').toBe('succeeded');
    const text = pdfText(a.blobs.get(getArtifact(a.db, currentSnapshot(a.db, 'w')!.id, 'census')!.sha256)).text;
    expect(text).toContain('NGUYỄN THỊ HỒNG');
    expect(text).toContain('TRẦN THU HÀ');
    expect(text).not.toContain('Nguyễn Thị Hồng');
  });


  it('composes FHIR names from their parts in the site order, official then usual, prefixes and suffixes kept', async () => {
    const vi = await census('family-first', 'vi');
    expect(vi).toContain('Nguyễn Thị Hồng');
    expect(vi).toContain('Dr. Smith Robert James Jr.');
    expect(vi).toContain('Trần Thu Hà');
    expect(vi).not.toContain('Bobby');
    expect(vi).not.toContain('Lê Mai');
    const en = await census('given-first', 'en');
    expect(en).toContain('Thị Hồng Nguyễn');
    expect(en).toContain('Dr. Robert James Smith Jr.');
  });

  it.skipIf(FALLBACK_FILES.length < 2 && process.env.CI !== 'true')('draws CJK and Thai names with a fallback font, Cyrillic with the sheet font, and marks only what no font has', async () => {
    const { text, fonts } = await censusWithFonts('family-first', 'en');
    expect(text).toContain('山田 太郎 (Yamada Taro)');
    expect(text).toContain('สมชาย ใจดี');
    expect(text).toContain('Иван Петров');
    expect(fonts).toMatch(/DroidSansFallback/);
    expect(fonts).toMatch(/Loma/);
    // A hieroglyph no font here has: marked, and the sheet says so, never an empty box.
    expect(text).toContain('Test \uFFFD Glyph');
    expect(text).toContain('1 character(s) on this sheet are in a script this box has no font for');
  });

  it('writes HL7 XPN (family^given^middle^suffix^prefix) in the site order', () => {
    // The shape of the HL7 v2.5.1 chapter 3 examples, with a Vietnamese name in its parts.
    const msg = ['MSH|^~\\&|REG|BVDEMO|PAPERBACK|WARD|20261122100000||ADT^A01^ADT_A01|MSG1|P|2.5.1', 'EVN|A01|20261122100000', 'PID|1||BV001^^^BVDEMO^MR||Nguyễn^Hồng^Thị^^BS.||19500304|F', 'PV1|1|I|3A^301^1'].join('\r');
    const opts = (nameOrder: 'family-first' | 'given-first') => ({ timeZone: 'Asia/Ho_Chi_Minh', nameOrder });
    expect(parseAdt(msg, opts('family-first')).name).toBe('BS. Nguyễn Thị Hồng');
    expect(parseAdt(msg, opts('given-first')).name).toBe('BS. Hồng Thị Nguyễn');
    const en = msg.replace('Nguyễn^Hồng^Thị^^BS.', 'EVERYMAN^ADAM^A^III^MR');
    expect(parseAdt(en, opts('given-first')).name).toBe('MR ADAM A EVERYMAN III');
  });

  it('writes drop-folder rows with family_name and given_name in the site order, and a name column as sent', () => {
    const rows = parseRows('bed,mrn,name,family_name,given_name\n1,A1,,Phạm,Văn Đức\n2,A2,Lê Thị Thu,,\n', 'csv', censusRow);
    expect(censusToPatients(rows, 'family-first').patients.map((p) => p.name)).toEqual(['Phạm Văn Đức', 'Lê Thị Thu']);
    expect(censusToPatients(rows, 'given-first').patients.map((p) => p.name)).toEqual(['Văn Đức Phạm', 'Lê Thị Thu']);
  });

  it('print-job initials follow the written name', () => {
    expect(initials(composeName({ family: 'Nguyễn', given: ['Thị', 'Hồng'] }, 'family-first'))).toBe('NTH');
    expect(initials(composeName({ family: 'Smith', given: ['Robert'] }, 'given-first'))).toBe('RS');
  });
});
