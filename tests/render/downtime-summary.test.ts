import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateHospital } from '../../agent/demo/generator.js';
import { patientKey, patientsInBedOrder } from '../../agent/model/helpers.js';
import type { WardSnapshot } from '../../agent/model/ward.js';
import { downtimeSummaryDocument, type DowntimeSummaryData } from '../../agent/render/downtime-summary.js';
import { loadTranslations } from '../../agent/render/i18n.js';
import { renderPdf } from '../../agent/render/pdf.js';
import { REPO } from '../support/fixtures.js';
import { pdfText } from '../support/pdf-text.js';

/**
 * The downtime summary after a 30-hour downtime, read back from the PDF: the
 * doses that fell due per patient (counted, first and last, not every time),
 * every break-glass sign-in, documents by title and patient, all in the
 * paper's language, and not stamped as a downtime copy.
 */
const START = new Date('2026-11-22T01:00:00Z'); // 08:00 in Hà Nội
const END = new Date(START.getTime() + 30 * 3_600_000);

function data(): DowntimeSummaryData {
  const w = generateHospital({ seed: 3, wards: 1, patientsPerWard: 3, now: START }).wards[0]!;
  const ward: WardSnapshot = { ward: { id: w.id, name: 'Khoa Nội 1' }, asOf: START.toISOString(), source: { id: 'his', system: 'HIS', location: null }, beds: w.beds, patients: w.patients, warnings: [] };
  const [first] = patientsInBedOrder(ward);
  first!.orders = { status: 'available', items: [{ id: 'o1', drug: 'Enoxaparin 40 mg/0.4 mL injection', dose: '40 mg', route: 'SC', frequency: null, scheduledTimes: ['20:00'], prn: false, prnReason: null, start: null, end: null, orderedBy: null, highAlert: true, status: 'active', instructions: null }, { id: 'o2', drug: 'Paracetamol 500 mg tablet', dose: '1 g', route: 'PO', frequency: null, scheduledTimes: ['08:00', '14:00', '20:00'], prn: false, prnReason: null, start: null, end: null, orderedBy: null, highAlert: false, status: 'active', instructions: null }] };
  return {
    id: 7,
    kind: 'detected',
    cause: 'HIS unreachable',
    startedAt: START.toISOString(),
    endedAt: END.toISOString(),
    declaredBy: null,
    endedBy: null,
    snapshots: [{ jobId: 'ward-1', title: 'Khoa Nội 1', snapshotId: 4, asOf: START.toISOString(), ward }],
    prints: [
      { at: START.toISOString(), address: 'ward-1/census', printerId: 'ward', requestedBy: 'paperback:downtime', copies: 1, state: 'completed', error: null, reason: 'downtime' },
      { at: START.toISOString(), address: `ward-1/mar/${patientKey(first!)}`, printerId: 'ward', requestedBy: 'paperback:downtime', copies: 1, state: 'failed', error: 'printer ward is stopped', reason: 'downtime' },
      { at: START.toISOString(), address: `ward-1/patient/${patientKey(first!)}/wristband`, printerId: 'bands', requestedBy: 'lan.nguyen', copies: 1, state: 'completed', error: null, reason: 'label' },
    ],
    breakGlass: [{ at: new Date(START.getTime() + 3_600_000).toISOString(), actor: 'ĐD. Lan (break-glass)' }],
    entries: [
      { kind: 'administration', state: 'pending', n: 5 },
      { kind: 'administration', state: 'filed', n: 2 },
      { kind: 'vitals', state: 'filed', n: 3 },
      { kind: 'discharge', state: 'needs-person', n: 1 },
    ],
    admissions: 2,
  };
}

describe('the downtime summary', () => {
  it('counts the doses that fell due per patient, lists break-glass sign-ins, names documents, in one language', async () => {
    const d = data();
    const first = patientsInBedOrder(d.snapshots[0]!.ward!)[0]!;
    const { pdf } = await renderPdf(downtimeSummaryDocument(d, { t: loadTranslations(path.join(REPO, 'templates'), 'vi'), timeZone: 'Asia/Ho_Chi_Minh', hospital: 'Bệnh viện Demo', renderedAt: END, size: 'A4' }));
    const { text } = pdfText(pdf);
    // 08:00 day 1 until 14:00 day 2 (30 h, the end not included): paracetamol 08, 14, 20, 08 (4); enoxaparin 20:00 once.
    expect(text).toContain('Paracetamol: 4 liều đến giờ, 22/11/2026 08:00 (GMT+7) → 23/11/2026 08:00 (GMT+7)');
    expect(text).toMatch(/Enoxaparin: 22\/11\/2026 20:00 \(GMT\+7\)/);
    expect(text).toContain('ĐD. Lan (break-glass)');
    expect(text).toContain('Danh sách bệnh nhân khoa');
    expect(text).toMatch(new RegExp(`Phiếu theo dõi dùng thuốc — Giường \\S+, ${first.name!.split(' ')[0]}`));
    expect(text).toContain('KHÔNG in được: printer ward is stopped');
    // A wristband printed during the downtime is named as one, with its patient, not as "patient".
    expect(text).toMatch(new RegExp(`Vòng tay — Giường \\S+, ${first.name!.split(' ')[0]}`));
    expect(text).not.toMatch(/BẢN DỰ PHÒNG|DOWNTIME COPY/);
    expect(text).toContain('BIÊN BẢN — Tóm tắt');
    // One language: none of the English words the summary used to mix in (states, addresses, units of time).
    expect(text).toContain('Thời lượng 30 giờ 0 phút');
    // What was recorded on the box during it, and how much of that is already in the HIS.
    expect(text).toContain('11 mục: 7 lần dùng thuốc, 3 lần đo dấu hiệu sinh tồn, 0 ghi chú, 1 lần chuyển hoặc ra viện; 2 người bệnh nhập viện khi ngừng hệ thống');
    expect(text).toContain('5 trên 11 đã gửi lại khi lập bản tóm tắt này; còn 6 cần gửi lại');
    expect(text).not.toMatch(/\b(completed|failed|Printed|min|ward-1\/)\b/);
  });
});
