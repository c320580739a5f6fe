/**
 * The insurance XML read as a ward's census: a 40-bed ward whose stays are
 * two weeks long (14 order days × 8 drugs, 14 bed-days, 14 clinical course
 * entries each), every table base64 in its envelope as exporters write it.
 * Prints the file size, the time to read and check it whole, and the peak
 * heap, beside the same ward as the drop folder's CSV census and medication
 * export (the format a site would otherwise write) for the ratio.
 * Run: npm run build && node dist/bench/insurance-xml.js [beds] [rounds]
 */
import { readInsuranceXml } from '../agent/sources/dropfolder/insurance-xml.js';
import { censusRow, medicationRow, parseRows } from '../agent/sources/dropfolder/formats.js';
import { insuranceXml, tongHop, type Row, type Stay } from '../tests/support/insurance-xml.js';

const beds = Number(process.argv[2] ?? 40);
const rounds = Number(process.argv[3] ?? 20);
const DAYS = 14;
const DRUGS = ['Paracetamol', 'Amoxicilin', 'Enoxaparin', 'Omeprazol', 'Amlodipin', 'Metformin', 'Vitamin B1', 'Natri clorid 0,9%'];
const yl = (day: number, hh: string) => `202611${String(day + 1).padStart(2, '0')}${hh}00`;

const stays: Stay[] = Array.from({ length: beds }, (_, b) => {
  const lk = `LK${String(b).padStart(6, '0')}`;
  const row = (extra: Row, i: number): Row => ({ MA_LK: lk, STT: String(i + 1), ...extra });
  return {
    xml1: tongHop(lk, { MA_BN: `BN${String(b).padStart(7, '0')}`, HO_TEN: `Nguyễn Thị Hồng Ngọc ${b}`, MA_KHOA: 'K03', MA_THE_BHYT: `HC47979${String(b).padStart(8, '0')}`, CAN_NANG: '52.5', CHAN_DOAN_VAO: 'Viêm phổi cộng đồng' }),
    xml2: Array.from({ length: DAYS * DRUGS.length }, (_, i) => row({ TEN_THUOC: DRUGS[i % DRUGS.length]!, HAM_LUONG: '500mg', DUONG_DUNG: '1.01', LIEU_DUNG: '2 viên/lần * 2 lần/ngày', CACH_DUNG: 'Uống sau ăn', NGAY_YL: yl(Math.floor(i / DRUGS.length), '08'), MA_BAC_SI: 'BS001' }, i)),
    xml3: Array.from({ length: DAYS }, (_, d) => row({ MA_DICH_VU: '15.1901', MA_GIUONG: `G${100 + b}`, NGAY_YL: yl(d, '09') }, d)),
    xml5: Array.from({ length: DAYS }, (_, d) => row({ DIEN_BIEN_LS: 'Mạch 88 l/p, nhiệt độ 37,8 °C, HA 120/80 mmHg, SpO2 96%. Tỉnh, ho khan, phổi ran nổ đáy phải.', THOI_DIEM_DBLS: yl(d, '07'), NGUOI_THUC_HIEN: 'BS001' }, d)),
  };
});
const xml = insuranceXml(stays);

const census = `bed,mrn,name,birth_date,sex,admitted_at,diagnosis,insurance_card\n${stays.map((s, b) => `G${100 + b},${s.xml1.MA_BN},${s.xml1.HO_TEN},1950-03-04,female,2026-11-20T08:00:00+07:00,Viêm phổi cộng đồng,${s.xml1.MA_THE_BHYT}`).join('\n')}\n`;
const meds = `mrn,drug,dose,route,frequency,start\n${stays.flatMap((s) => DRUGS.map((d) => `${s.xml1.MA_BN},"${d} 500mg",2 viên,1.01,2 lần/ngày,2026-11-14T08:00:00+07:00`)).join('\n')}\n`;

function time(fn: () => unknown): { ms: number; peakMb: number } {
  fn();
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    fn();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  return { ms: (performance.now() - t0) / rounds, peakMb: (peak - before) / 1048576 };
}

const ours = time(() => readInsuranceXml(xml, 'Asia/Ho_Chi_Minh'));
const csv = time(() => [parseRows(census, 'csv', censusRow), parseRows(meds, 'csv', medicationRow)]);
const records = readInsuranceXml(xml, 'Asia/Ho_Chi_Minh').records;
console.log(`insurance XML, ${beds} beds × ${DAYS}-day stays: ${(Buffer.byteLength(xml) / 1048576).toFixed(2)} MB, ${records.length} records, ${records.reduce((n, r) => n + r.orders.length, 0)} current orders`);
console.log(`  read and checked whole: ${ours.ms.toFixed(1)} ms per file (mean of ${rounds}), heap growth at peak ${ours.peakMb.toFixed(1)} MB`);
console.log(`  the same ward as CSV census + medications (${((Buffer.byteLength(census) + Buffer.byteLength(meds)) / 1024).toFixed(0)} KB): ${csv.ms.toFixed(2)} ms`);
console.log(`  ratio XML / CSV: ${(ours.ms / csv.ms).toFixed(1)}×`);
