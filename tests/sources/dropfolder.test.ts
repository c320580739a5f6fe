import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDropFolderSource } from '../../agent/sources/dropfolder/index.js';
import { runJob } from '../../agent/schedule/run.js';
import { getArtifact, currentSnapshot, listArtifacts } from '../../agent/store/snapshots.js';
import type { WardSnapshot } from '../../agent/model/ward.js';
import { jobYaml, memoryLogger, openTestAgent, tmpDir, writeConfigDir, waitFor } from '../support/fixtures.js';
import { pdfText } from '../support/pdf-text.js';

const CENSUS = `bed,room,mrn,name,birth_date,sex,admitted_at,attending,diagnosis,code_status,isolation,allergies,weight_kg,flags
12A,12,BV001,Nguyễn Thị Hồng,1950-03-04,F,2026-11-20T08:00:00+07:00,BS. Lê Mai,Viêm phổi,DNR,Contact isolation,Penicillin;Aspirin,52,Fall risk
12B,12,,,,,,,,,,,,
14A,14,BV002,<script>alert(1)</script>,1980-01-01,M,2026-11-21T10:00:00+07:00,BS. Trần,Sốt xuất huyết,,,NKA,70,
15A,15,BV003,Trần Văn Nam,1975-06-15,M,,,,,,,,
`;
const MEDS = `mrn,order_id,drug,dose,route,frequency,times,prn,prn_reason,high_alert,status
BV001,o1,Enoxaparin 40 mg,40 mg,SC,once daily,20:00,no,,,active
BV001,o2,Paracetamol 500 mg,1 g,oral,every 6 hours as needed,,yes,pain,,active
BV002,o3,Ceftriaxone 1 g,2 g,IV,once daily,08:00,no,,,on-hold
`;

describe('drop-folder source', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  function setup() {
    const folder = tmpDir('pb-drop-');
    const dir = writeConfigDir(tmpDir(), {
      baseUrl: 'http://127.0.0.1:9/fhir',
      wards: ['ward-12'],
      jobs: { 'ward-12': jobYaml('ward-12').replace('source: his', 'source: export').replace('Location/ward-12', 'ward-12') + 'datasets: [census, medications]\n' },
      extraSource: `  - id: export\n    kind: dropfolder\n    folder: ${folder}\n`,
    });
    const a = openTestAgent(dir);
    const { log, lines } = memoryLogger();
    const src = createDropFolderSource({ id: 'export', name: 'HIS export', folder }, { configDir: dir, log });
    closers.push(() => src.close!());
    a.sources.set('export', src);
    return { a, src, folder, lines };
  }
  const ready = async (src: { ready: Promise<void> }) => src.ready;

  it('takes a census and medication export, and a ready-made report, into a snapshot', async () => {
    const { a, src } = setup();
    await ready(src);
    // Written in two steps as an exporter would; taken only once complete.
    const f = path.join(src.folder.inbox, 'ward-12.census.csv');
    fs.writeFileSync(f, CENSUS.slice(0, 40));
    await new Promise((r) => setTimeout(r, 300));
    fs.appendFileSync(f, CENSUS.slice(40));
    fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.medications.json'), JSON.stringify([{ mrn: 'BV001', drug: 'Insulin glargine 100 units/mL', dose: '20 units', route: 'SC', frequency: 'at bedtime', times: '22:00' }]));
    await waitFor(() => fs.existsSync(path.join(src.folder.accepted, 'ward-12', 'medications.json')), 8000);
    fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.medications.csv'), MEDS);
    fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.handover.pdf'), fs.readFileSync(path.join(import.meta.dirname, '../fixtures/tiny.pdf')));
    fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.handover.pdf.json'), JSON.stringify({ asOf: '2026-11-22T06:00:00+07:00', title: 'Nursing handover' }));
    await waitFor(() => fs.readdirSync(src.folder.inbox).length === 0 && fs.existsSync(path.join(src.folder.accepted, 'ward-12', 'handover.pdf.json')), 8000);
    // The CSV export arrived after the JSON one and replaced it.
    expect(fs.readdirSync(path.join(src.folder.accepted, 'ward-12')).sort()).toEqual(['census.csv', 'handover.pdf', 'handover.pdf.json', 'medications.csv']);
    const o = await runJob(a, 'ward-12', { trigger: 'manual' });
    expect(o.status, o.error ?? '').toBe('succeeded');
    const cur = currentSnapshot(a.db, 'ward-12')!;
    const ward = JSON.parse(a.blobs.get(getArtifact(a.db, cur.id, 'data/ward')!.sha256).toString()) as WardSnapshot;
    expect(ward.beds.map((b) => b.label)).toEqual(['12A', '12B', '14A', '15A']);
    expect(ward.beds[1]!.patientId).toBeNull();
    const [hong, script, nam] = ward.patients;
    expect(hong).toMatchObject({ mrn: 'BV001', name: 'Nguyễn Thị Hồng', sex: 'female', codeStatus: 'DNR', isolation: ['Contact isolation'], weightKg: 52, allergies: { status: 'recorded' } });
    expect(hong!.orders.items.map((o) => [o.drug, o.prn, o.highAlert])).toEqual([['Enoxaparin 40 mg', false, true], ['Paracetamol 500 mg', true, false]]);
    expect(script).toMatchObject({ name: '<script>alert(1)</script>', allergies: { status: 'none-known' } });
    expect(script!.orders.items[0]).toMatchObject({ status: 'on-hold' });
    expect(nam).toMatchObject({ allergies: { status: 'not-recorded' }, attending: null, admittedAt: null });
    expect(listArtifacts(a.db, cur.id, 'document').map((d) => d.address)).toContain('report/handover');
    expect(listArtifacts(a.db, cur.id, 'document').find((d) => d.address === 'report/handover')!.title).toBe('Nursing handover (as of 2026-11-21T23:00:00.000Z)');
  });

  it('quarantines a bad file with a .reason beside it and keeps the last good export', async () => {
    const { a, src, lines } = setup();
    await ready(src);
    fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.census.csv'), CENSUS);
    fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.medications.csv'), MEDS);
    await waitFor(() => fs.readdirSync(src.folder.inbox).length === 0, 8000);
    fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.census.csv'), CENSUS.replace('1950-03-04', '04/03/1950'));
    fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.report.pdf'), 'this is not a pdf');
    fs.writeFileSync(path.join(src.folder.inbox, 'notes.txt'), 'hello');
    await waitFor(() => fs.readdirSync(src.folder.quarantine).filter((f) => f.endsWith('.reason')).length === 3, 8000);
    const reasons = fs.readdirSync(src.folder.quarantine).filter((f) => f.endsWith('.reason')).map((f) => fs.readFileSync(path.join(src.folder.quarantine, f), 'utf8'));
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/row 1 \(line 2\): column "birth_date" must be YYYY-MM-DD/),
        expect.stringMatching(/not a PDF file/),
        expect.stringMatching(/name must be WARD.census.csv/),
      ]),
    );
    // The quarantined file itself is kept beside its reason, never lost.
    expect(fs.readdirSync(src.folder.quarantine).filter((f) => !f.endsWith('.reason'))).toHaveLength(3);
    // The accepted census is still the good one.
    const o = await runJob(a, 'ward-12', { trigger: 'manual' });
    expect(o.status).toBe('succeeded');
    expect(o.counts.patients).toBe(3);
    expect(lines.some((l) => /quarantined/.test(l))).toBe(true);
    expect(lines.join('\n')).not.toContain('Nguyễn Thị Hồng');
  });

  it('quarantines an empty, blank, binary or mis-encoded census, and a broken JSON one, without quoting patient data', async () => {
    const { a, src, lines } = setup();
    await ready(src);
    fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.census.csv'), CENSUS);
    fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.medications.csv'), MEDS);
    await waitFor(() => fs.readdirSync(src.folder.inbox).length === 0, 8000);
    const drop = async (name: string, content: Buffer | string) => {
      const before = fs.readdirSync(src.folder.quarantine).filter((f) => f.endsWith('.reason')).length;
      fs.writeFileSync(path.join(src.folder.inbox, name), content);
      await waitFor(() => fs.readdirSync(src.folder.quarantine).filter((f) => f.endsWith('.reason')).length === before + 1, 8000);
    };
    await drop('ward-12.census.csv', '');
    await drop('ward-12.census.csv', '  \n\t\n  ');
    await drop('ward-12.census.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]));
    await drop('ward-12.census.csv', Buffer.from('bed,mrn,name\n12A,BV001,Nguy\xe1n Th\xed H\xf4ng\n', 'latin1'));
    await drop('ward-12.census.json', '[{"bed": "12A", "mrn": "BV001", "name": "Nguyễn Thị Hồng" "sex": "F"}]');
    // A 17 MB "census" (a dump dropped by mistake) is refused by its size, not parsed while the page waits.
    await drop('ward-12.census.csv', `bed,mrn,name\n${'12A,BV001,Nguyễn Thị Hồng\n'.repeat(600_000)}`);
    const reasons = fs.readdirSync(src.folder.quarantine).filter((f) => f.endsWith('.reason')).map((f) => fs.readFileSync(path.join(src.folder.quarantine, f), 'utf8'));
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/the file is empty \(0 bytes\)/),
        expect.stringMatching(/the file holds only whitespace/),
        expect.stringMatching(/the file is binary/),
        expect.stringMatching(/not UTF-8 text/),
        expect.stringMatching(/not valid JSON \(at line 1, column \d+\)/),
        expect.stringMatching(/file of 1[78] MB is over the 16 MB an export of this kind may be/),
      ]),
    );
    // Neither the reason files nor the log quote the export's text.
    expect(reasons.join('\n')).not.toMatch(/Nguy|Hồng|BV001/);
    expect(lines.join('\n')).not.toMatch(/Nguy|Hồng/);
    // The good census stays: the ward is not emptied by garbage.
    const o = await runJob(a, 'ward-12', { trigger: 'manual' });
    expect(o.status).toBe('succeeded');
    expect(o.counts.patients).toBe(3);
  });

  it('takes a results export: recent results on the summary, old ones left off, a bad row quarantined with its line', async () => {
    const { a, src } = setup();
    await ready(src);
    const ago = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.census.csv'), CENSUS);
    fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.medications.csv'), MEDS);
    fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.results.csv'), `mrn,category,test,value,unit,range,flag,at\nBV001,laboratory,Kali máu,2.9,mmol/L,3.5–5.1,L,${ago(5)}\nBV001,laboratory,Kali máu,3.4,mmol/L,3.5–5.1,L,${ago(100)}\nBV001,vital-signs,Mạch,112,/min,,,${ago(2)}\nBV002,laboratory,Creatinin,88,µmol/L,62–106,N,${ago(10)}\n`);
    await waitFor(() => fs.readdirSync(src.folder.inbox).length === 0, 8000);
    fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.results.csv'), `mrn,test,value,at\nBV001,Kali máu,,${ago(1)}\n`);
    await waitFor(() => fs.readdirSync(src.folder.quarantine).some((f) => f.endsWith('.reason')), 8000);
    const reason = fs.readFileSync(path.join(src.folder.quarantine, fs.readdirSync(src.folder.quarantine).find((f) => f.endsWith('.reason'))!), 'utf8');
    expect(reason).toMatch(/row 1 \(line 2\): column "value" is required/);
    const job = a.config.jobs.get('ward-12')!;
    (job as { documents: string[] }).documents = ['summary'];
    (job as { datasets: string[] }).datasets = ['census', 'medications', 'results'];
    const o = await runJob(a, 'ward-12', { trigger: 'manual' });
    expect(o.status, o.error ?? '').toBe('succeeded');
    const cur = currentSnapshot(a.db, 'ward-12')!;
    const text = (mrn: string) => pdfText(a.blobs.get(getArtifact(a.db, cur.id, `summary/${mrn}`)!.sha256)).text;
    const hong = text('BV001');
    expect(hong).toMatch(/Kali máu 2\.9 mmol\/L 3\.5–5\.1 L/);
    expect(hong).not.toContain('3.4 mmol/L');
    expect(hong).toMatch(/Mạch 112 \/min/);
    // N is not a flag; a patient with no row is "no results", not "not pulled".
    expect(text('BV002')).toMatch(/Creatinin 88 µmol\/L 62–106 \d{2}\/\d{2}/);
    expect(text('BV003')).toContain('No laboratory results in the last 72 h.');
  });

  it('fails the run with the reason when a required export is missing', async () => {
    const { a, src } = setup();
    await ready(src);
    fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.census.csv'), CENSUS);
    await waitFor(() => fs.readdirSync(src.folder.inbox).length === 0, 8000);
    const o = await runJob(a, 'ward-12', { trigger: 'manual' });
    expect(o.status).toBe('failed');
    expect(o.error).toMatch(/no medications export for ward ward-12/);
  });
});
