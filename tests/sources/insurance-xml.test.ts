import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDropFolderSource } from '../../agent/sources/dropfolder/index.js';
import { parseDosage, readInsuranceXml } from '../../agent/sources/dropfolder/insurance-xml.js';
import { runJob } from '../../agent/schedule/run.js';
import { currentSnapshot, getArtifact, listArtifacts } from '../../agent/store/snapshots.js';
import { insuranceXml, tongHop, type Stay } from '../support/insurance-xml.js';
import { pdfText } from '../support/pdf-text.js';
import { jobYaml, memoryLogger, openTestAgent, tmpDir, waitFor, writeConfigDir, type TestAgent } from '../support/fixtures.js';

/**
 * The insurance XML (GIAMDINHHS) dropped into a drop folder, read back from
 * the printed census, MAR and summary: beds from XML3's bed-days, the latest
 * order day's drugs with LIEU_DUNG split into dose and frequency, the
 * clinical course verbatim, and on every sheet that these tables hold no
 * allergies. Malformed files are quarantined with a reason that names no value.
 */

const hong: Stay = {
  xml1: tongHop('LK-0001', { MA_BN: 'BN0001', HO_TEN: 'Nguyễn Thị Hồng', MA_KHOA: 'K01;K03', MA_THE_BHYT: 'HC4797900123456', SO_CCCD: '079150001234', MA_HSBA: '24.012345', CAN_NANG: '52.5', CHAN_DOAN_VAO: 'Viêm phổi', MA_BENH_CHINH: 'J18.9', NGAY_VAO_NOI_TRU: '202611201000' }),
  xml2: [
    { MA_LK: 'LK-0001', STT: '1', MA_THUOC: '40.17', TEN_THUOC: 'Cefuroxim', HAM_LUONG: '750mg', DUONG_DUNG: '2.10', LIEU_DUNG: '1 lọ/lần * 2 lần/ngày', CACH_DUNG: 'Tiêm tĩnh mạch chậm', NGAY_YL: '202611200830', MA_BAC_SI: 'BS001' },
    { MA_LK: 'LK-0001', STT: '2', MA_THUOC: '40.23', TEN_THUOC: 'Paracetamol', HAM_LUONG: '500mg', DUONG_DUNG: '1.01', LIEU_DUNG: '2 viên/lần * 2 lần/ngày', CACH_DUNG: 'Uống sau ăn', NGAY_YL: '202611210800', MA_BAC_SI: 'BS001' },
    { MA_LK: 'LK-0001', STT: '3', MA_THUOC: '40.99', TEN_THUOC: 'Enoxaparin', HAM_LUONG: '40mg', DUONG_DUNG: '2.09', LIEU_DUNG: 'Tiêm dưới da buổi tối', NGAY_YL: '202611210815', MA_BAC_SI: 'BS002' },
  ],
  xml3: [
    { MA_LK: 'LK-0001', STT: '1', MA_DICH_VU: '15.1901', MA_GIUONG: 'G-12A', NGAY_YL: '202611200900' },
    { MA_LK: 'LK-0001', STT: '2', MA_DICH_VU: '01.0001', NGAY_YL: '202611210700' },
    { MA_LK: 'LK-0001', STT: '3', MA_DICH_VU: '15.1901', MA_GIUONG: 'G-14B', NGAY_YL: '202611210900' },
  ],
  xml5: [
    { MA_LK: 'LK-0001', STT: '1', DIEN_BIEN_LS: 'Sốt nhẹ, ho khan', THOI_DIEM_DBLS: '202611200900', NGUOI_THUC_HIEN: 'BS001' },
    { MA_LK: 'LK-0001', STT: '2', DIEN_BIEN_LS: 'Mạch 88 l/p, nhiệt độ 38,2 °C, HA 110/70 mmHg, SpO2 95%', THOI_DIEM_DBLS: '202611210700', NGUOI_THUC_HIEN: 'BS002' },
  ],
};
const nam: Stay = { xml1: tongHop('LK-0002', { MA_BN: 'BN0002', HO_TEN: 'Trần Văn Nam', MA_KHOA: 'K03', NGAY_SINH: '198000000000', GIOI_TINH: '1' }) };
const gone: Stay = { xml1: tongHop('LK-0003', { MA_BN: 'BN0003', HO_TEN: 'Lê Văn Đã Ra', MA_KHOA: 'K03', NGAY_RA: '202611210900' }) };
const elsewhere: Stay = { xml1: tongHop('LK-0004', { MA_BN: 'BN0004', HO_TEN: 'Phạm Khoa Khác', MA_KHOA: 'K05' }) };

describe('the insurance XML as a drop-folder census', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  function setup() {
    const folder = tmpDir('pb-bhyt-');
    const dir = writeConfigDir(tmpDir(), {
      baseUrl: 'http://127.0.0.1:9/fhir',
      wards: ['ward-12'],
      jobs: { 'ward-12': jobYaml('ward-12').replace('source: his', 'source: export').replace('Location/ward-12', 'K03').replace('documents: [census, mar]', 'documents: [census, mar, summary]') },
      extraSource: `  - id: export\n    kind: dropfolder\n    folder: ${folder}\n    wards: { K03: ward-12 }\n`,
    });
    fs.writeFileSync(path.join(dir, 'paperback.yaml'), fs.readFileSync(path.join(dir, 'paperback.yaml'), 'utf8').replace('language: en', 'language: vi').replace('name: "Ward ward-12" }', 'name: "Khoa Nội 3", code: K03 }'));
    const a = openTestAgent(dir);
    const { log, lines } = memoryLogger();
    const src = createDropFolderSource({ id: 'export', name: 'HIS (XML 130)', folder, wards: { K03: 'ward-12' } }, { configDir: dir, log, timeZone: 'Asia/Ho_Chi_Minh', wardIds: () => ['ward-12'] });
    closers.push(() => src.close!());
    a.sources.set('export', src);
    return { a, src, lines };
  }
  const printed = (a: TestAgent, address: string) => pdfText(a.blobs.get(getArtifact(a.db, currentSnapshot(a.db, 'ward-12')!.id, address)!.sha256)).text;

  it('prints the census, MAR and summary an insurance export gives, and says it holds no allergies', async () => {
    const { a, src, lines } = setup();
    await src.ready;
    fs.writeFileSync(path.join(src.folder.inbox, 'HS_79001_112026.xml'), insuranceXml([hong, nam, gone, elsewhere]));
    await waitFor(() => fs.readdirSync(src.folder.inbox).length === 0, 8000);
    expect(fs.readdirSync(src.folder.quarantine)).toEqual([]);
    const o = await runJob(a, 'ward-12', { trigger: 'manual' });
    expect(o.status, o.error ?? '').toBe('succeeded');
    expect(o.counts.patients).toBe(2);

    const census = printed(a, 'census');
    // The bed is the latest bed-day's, not the first; the patient with no bed-day is listed as unplaced.
    expect(census).toContain('G-14B');
    expect(census).not.toContain('G-12A');
    expect(census).toContain('Nguyễn Thị Hồng');
    expect(census).toMatch(/Trần Văn Nam[^]*chưa xếp giường|chưa xếp giường[^]*Trần Văn Nam/);
    // Discharged before the export, or another department's: not on this ward.
    expect(census).not.toContain('Lê Văn Đã Ra');
    expect(census).not.toContain('Phạm Khoa Khác');
    expect(census).toContain('KHÔNG CÓ THÔNG TIN DỊ ỨNG');
    // The ward by its name and the HIS's code for it, on every page.
    expect(census).toContain('Khoa Nội 3 (K03)');

    const docs = listArtifacts(a.db, currentSnapshot(a.db, 'ward-12')!.id, 'document').map((d) => d.address);
    const marOf = docs.find((d) => d.startsWith('mar/') && printed(a, d).includes('Nguyễn Thị Hồng'))!;
    const mar = printed(a, marOf);
    // The latest order day (21/11) only: yesterday's cefuroxime is not an order now.
    expect(mar).toContain('Paracetamol 500mg');
    expect(mar).not.toContain('Cefuroxim');
    // LIEU_DUNG split into the dose and how often; CACH_DUNG as the instruction; an unparsed LIEU_DUNG kept whole.
    expect(mar).toContain('2 viên');
    expect(mar).toContain('2 lần/ngày');
    expect(mar).toContain('Uống sau ăn');
    expect(mar).toContain('Tiêm dưới da buổi tối');
    expect(mar).toContain('Bản dữ liệu này không gồm thông tin dị ứng');
    // Enoxaparin is a high-alert drug whatever the source says.
    expect(mar).toMatch(/Enoxaparin 40mg/);
    // The patient band: admission record number, insurance card, citizen ID.
    expect(mar).toContain('24.012345');
    expect(mar).toContain('HC4797900123456');
    expect(mar).toContain('079150001234');

    const summary = printed(a, marOf.replace('mar/', 'summary/'));
    expect(summary).toContain('Diễn biến lâm sàng gần nhất');
    expect(summary).toContain('Mạch 88 l/p, nhiệt độ 38,2 °C, HA 110/70 mmHg, SpO2 95%');
    expect(summary).toContain('Sốt nhẹ, ho khan');
    expect(summary.indexOf('Mạch 88')).toBeLessThan(summary.indexOf('Sốt nhẹ'));
    expect(summary).toContain('Viêm phổi');
    expect(summary).toContain('52.5');
    // On a portrait page too, every identifier is whole: they have a line of their own on the band.
    expect(summary).toContain('HC4797900123456');
    expect(summary).toContain('079150001234');
    // The log says what was taken, never who.
    expect(lines.join('\n')).toMatch(/insurance XML accepted/);
    expect(lines.join('\n')).not.toMatch(/Hồng|BN0001|HC4797/);
  });

  it('quarantines malformed exports with a reason naming the record, table and field, and keeps the last good census', async () => {
    const { a, src } = setup();
    await src.ready;
    fs.writeFileSync(path.join(src.folder.inbox, 'good.xml'), insuranceXml([hong, nam]));
    await waitFor(() => fs.readdirSync(src.folder.inbox).length === 0, 8000);
    const drop = async (name: string, content: string) => {
      const before = fs.readdirSync(src.folder.quarantine).filter((f) => f.endsWith('.reason')).length;
      fs.writeFileSync(path.join(src.folder.inbox, name), content);
      await waitFor(() => fs.readdirSync(src.folder.quarantine).filter((f) => f.endsWith('.reason')).length === before + 1, 8000);
      return fs.readFileSync(path.join(src.folder.quarantine, fs.readdirSync(src.folder.quarantine).filter((f) => f.endsWith(`${name}.reason`)).sort().pop()!), 'utf8');
    };
    expect(await drop('b64.xml', insuranceXml([{ ...nam, raw: { XML1: 'PFRPTkdfSE9QPg@@' } }]))).toMatch(/HOSO 1 XML1: NOIDUNGFILE is not valid base64/);
    expect(await drop('date.xml', insuranceXml([hong, { ...nam, xml1: { ...nam.xml1, NGAY_VAO: '202613450800' } }]))).toMatch(/HOSO 2 XML1: NGAY_VAO is not a real date and time \(month 13 does not exist\)/);
    expect(await drop('yl.xml', insuranceXml([{ ...hong, xml2: [{ ...hong.xml2![1]!, NGAY_YL: '21/11/2026' }] }]))).toMatch(/HOSO 1 XML2 row 2: NGAY_YL must be yyyymmddHHMM/);
    expect(await drop('ward.xml', insuranceXml([elsewhere]))).toMatch(/no record is for a ward on this box: department code K05 is not in this source's wards map/);
    expect(await drop('cut.xml', insuranceXml([hong, nam], { declared: 3 }))).toMatch(/SOLUONGHOSO says 3 records but the file holds 2: it may be cut short/);
    expect(await drop('entity.xml', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><GIAMDINHHS>&a;</GIAMDINHHS>')).toMatch(/DOCTYPE is not allowed/);
    expect(await drop('other.xml', '<TONG_HOP><MA_LK>1</MA_LK></TONG_HOP>')).toMatch(/not <GIAMDINHHS>/);
    expect(await drop('sex.xml', insuranceXml([{ ...nam, xml1: { ...nam.xml1, GIOI_TINH: 'Nam' } }]))).toMatch(/HOSO 1 XML1: GIOI_TINH must be 1, 2 or 3/);
    expect(await drop('twice.xml', insuranceXml([hong, { ...nam, xml1: { ...nam.xml1, MA_LK: 'LK-0001' } }]))).toMatch(/HOSO 2 has the same MA_LK as HOSO 1/);
    const reasons = fs.readdirSync(src.folder.quarantine).filter((f) => f.endsWith('.reason')).map((f) => fs.readFileSync(path.join(src.folder.quarantine, f), 'utf8')).join('\n');
    expect(reasons).not.toMatch(/Hồng|Nam|BN000|LK-000/);
    const o = await runJob(a, 'ward-12', { trigger: 'manual' });
    expect(o.status, o.error ?? '').toBe('succeeded');
    expect(o.counts.patients).toBe(2);
    expect(printed(a, 'census')).toContain('Nguyễn Thị Hồng');
  });

  it('lets a later CSV census replace the insurance export, and the reverse', async () => {
    const { a, src } = setup();
    await src.ready;
    const accepted = path.join(src.folder.accepted, 'ward-12');
    fs.writeFileSync(path.join(src.folder.inbox, 'ward-12.census.csv'), 'bed,mrn,name\n1,X1,Đỗ Văn Một\n');
    await waitFor(() => fs.existsSync(path.join(accepted, 'census.csv')), 8000);
    fs.writeFileSync(path.join(src.folder.inbox, 'later.xml'), insuranceXml([nam]));
    await waitFor(() => fs.existsSync(path.join(accepted, 'insurance.json')), 8000);
    expect(fs.readdirSync(accepted)).toEqual(['insurance.json']);
    const o = await runJob(a, 'ward-12', { trigger: 'manual' });
    expect(o.status, o.error ?? '').toBe('succeeded');
    expect(printed(a, 'census')).toContain('Trần Văn Nam');
    expect(printed(a, 'census')).not.toContain('Đỗ Văn Một');
  });
});

describe('LIEU_DUNG and the envelope, read alone', () => {
  it('splits the MoH form of LIEU_DUNG and keeps anything else whole', () => {
    expect(parseDosage('2 viên/lần * 2 lần/ngày')).toEqual({ dose: '2 viên', frequency: '2 lần/ngày' });
    expect(parseDosage('1 ống/lần x 3 lần/ngày x 5 ngày')).toEqual({ dose: '1 ống', frequency: '3 lần/ngày (5 ngày)' });
    expect(parseDosage('0,5 viên / lần × 1 lần / ngày')).toEqual({ dose: '0,5 viên', frequency: '1 lần/ngày' });
    expect(parseDosage('Ngày uống 2 lần, mỗi lần 1 viên')).toEqual({ dose: 'Ngày uống 2 lần, mỗi lần 1 viên', frequency: null });
    expect(parseDosage(undefined)).toEqual({ dose: null, frequency: null });
  });

  it('reads a birth year alone, a month alone, and the box zone for times', () => {
    const exp = readInsuranceXml(insuranceXml([nam, { xml1: tongHop('LK-9', { MA_BN: 'B9', HO_TEN: 'X', MA_KHOA: 'K03', NGAY_SINH: '199007000000', NGAY_VAO: '202611220700' }) }]), 'Asia/Ho_Chi_Minh');
    expect(exp.facility).toBe('79001');
    expect(exp.records.map((r) => r.birthDate)).toEqual(['1980', '1990-07']);
    expect(exp.records[1]!.admittedAt).toBe('2026-11-22T00:00:00.000Z');
    expect(() => readInsuranceXml(insuranceXml([{ xml1: tongHop('LK-8', { MA_BN: 'B8', HO_TEN: 'Y', MA_KHOA: 'K03', NGAY_SINH: '199002300000' }) }]), 'Asia/Ho_Chi_Minh')).toThrow(/HOSO 1 XML1: NGAY_SINH is not a real date/);
  });
});
