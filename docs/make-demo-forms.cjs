// Makes the two demo blank forms in templates/forms/ (a hospital puts its own there instead).
// Run: node docs/make-demo-forms.cjs
const PDF = require('pdfkit');
const fs = require('fs');
const path = require('path');
const font = require('path').join(require('path').dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf/') + 'DejaVuSans.ttf';
const bold = require('path').join(require('path').dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf/') + 'DejaVuSans-Bold.ttf';
function make(file, title, subtitle, draw) {
  const d = new PDFDocument({ size: 'A4', margin: 40, info: { Title: title, Producer: 'Paperback demo form' } });
  d.pipe(fs.createWriteStream(file));
  d.font(bold).fontSize(12).text(title, 40, 40, { width: 290 });
  d.font(font).fontSize(9).text(subtitle, 40, 84, { width: 290 });
  draw(d);
  d.end();
}
var PDFDocument = PDF;
make(require('path').join(__dirname, '../templates/forms/') + 'vital-signs.pdf', 'PHIẾU THEO DÕI DẤU HIỆU SINH TỒN', 'Vital signs chart — record every 4 hours or as ordered', (d) => {
  const cols = ['Giờ / Time', 'Mạch / Pulse', 'HA / BP', 'Nhiệt / Temp', 'NT / RR', 'SpO₂', 'Ký / Initials'];
  const x0 = 40, y0 = 140, w = 515 / cols.length, h = 26;
  d.font(bold).fontSize(8);
  cols.forEach((c, i) => { d.rect(x0 + i * w, y0, w, h).stroke(); d.text(c, x0 + i * w + 3, y0 + 8, { width: w - 6 }); });
  d.font(font);
  for (let r = 1; r <= 22; r++) cols.forEach((_, i) => d.rect(x0 + i * w, y0 + r * h, w, h).stroke());
});
make(require('path').join(__dirname, '../templates/forms/') + 'fall-risk.pdf', 'ĐÁNH GIÁ NGUY CƠ TÉ NGÃ (MORSE)', 'Morse fall scale — assess on admission, transfer and every shift', (d) => {
  const items = ['Tiền sử té ngã / History of falling (0 / 25)', 'Chẩn đoán phụ / Secondary diagnosis (0 / 15)', 'Dụng cụ hỗ trợ đi lại / Ambulatory aid (0 / 15 / 30)', 'Truyền dịch / IV access (0 / 20)', 'Dáng đi / Gait (0 / 10 / 20)', 'Tình trạng tâm thần / Mental status (0 / 15)'];
  let y = 140;
  d.font(font).fontSize(10);
  for (const it of items) { d.rect(40, y, 515, 34).stroke(); d.text(it, 46, y + 11, { width: 400 }); d.rect(480, y + 6, 60, 22).stroke(); y += 34; }
  d.font(bold).text('Tổng điểm / Total: ______    Nguy cơ / Risk: thấp / vừa / cao', 46, y + 16);
  d.font(font).text('Điều dưỡng / Nurse: ____________________    Ngày giờ / Date-time: ____________', 46, y + 44);
});

// The downtime requisitions and a blank MAR for a patient admitted during the downtime.
// The top right (120–202 mm across, 8–34 mm down) stays empty: Paperback stamps the patient's label there.
const box = (d, x, y, w, h, label) => { d.rect(x, y, w, h).stroke(); if (label) d.fontSize(7.5).fillColor('#444').text(label, x + 3, y + 3, { width: w - 6 }).fillColor('#000'); };
const checks = (d, items, x, y, colW, rowH, cols) => items.forEach((it, i) => { const cx = x + (i % cols) * colW; const cy = y + Math.floor(i / cols) * rowH; d.rect(cx, cy + 2, 9, 9).stroke(); d.fontSize(9).text(it, cx + 14, cy + 2, { width: colW - 16 }); });
const signLine = (d, y) => { d.font(font).fontSize(9).text('Người chỉ định / Ordered by: ______________________   Giờ / Time: __________   Ký / Signature: ____________', 40, y, { width: 515 }); };
const forms = require('path').join(__dirname, '../templates/forms/');

make(forms + 'downtime-mar.pdf', 'PHIẾU THEO DÕI DÙNG THUỐC — BỆNH NHÂN MỚI (DỰ PHÒNG)', 'Downtime MAR for a patient admitted while the HIS is down — write every order and every dose; file back after recovery', (d) => {
  d.font(font);
  box(d, 40, 110, 250, 30, 'Họ tên / Name'); box(d, 295, 110, 130, 30, 'Số tạm / Downtime no. · Mã BN'); box(d, 430, 110, 125, 30, 'Ngày sinh / DOB · Giới');
  box(d, 40, 145, 90, 30, 'Giường / Bed'); box(d, 135, 145, 90, 30, 'Cân nặng / Weight (kg)'); box(d, 230, 145, 325, 30, 'DỊ ỨNG / ALLERGIES  ☐ Không rõ / Unknown  ☐ Không / NKA');
  const cols = [['Thuốc · liều · đường · tần suất / Drug · dose · route · frequency', 175], ['BS / Prescriber', 55], ...Array.from({ length: 6 }, () => ['Giờ / Time\nKý / Init.', 47.5])];
  let x = 40; const y0 = 185;
  d.font(bold).fontSize(7);
  for (const [c, w] of cols) { d.rect(x, y0, w, 26).stroke(); d.text(c, x + 2, y0 + 3, { width: w - 4 }); x += w; }
  d.font(font);
  for (let r = 0; r < 16; r++) { x = 40; for (const [, w] of cols) { d.rect(x, y0 + 26 + r * 34, w, 34).stroke(); x += w; } }
  d.fontSize(8).text('Ghi giờ dùng thực tế và ký; thuốc không dùng: ghi lý do (từ chối, tạm ngưng, không có thuốc). / Write the actual time and initial; a dose not given: write why.', 40, y0 + 26 + 16 * 34 + 6, { width: 515 });
});

make(forms + 'lab-request.pdf', 'PHIẾU YÊU CẦU XÉT NGHIỆM (DỰ PHÒNG)', 'Laboratory request during downtime — the laboratory files results back to the HIS after recovery', (d) => {
  d.font(bold).fontSize(10).text('Xét nghiệm / Tests', 40, 130);
  d.font(font);
  checks(d, ['Công thức máu / CBC', 'Điện giải đồ / Electrolytes (Na, K, Cl)', 'Ure, Creatinin', 'Đường máu / Glucose', 'Đông máu / Coagulation (PT, APTT)', 'Khí máu / Blood gas', 'Men gan / AST, ALT', 'CRP / Procalcitonin', 'Troponin', 'Cấy máu / Blood culture', 'Nhóm máu, phản ứng chéo / Group & crossmatch', 'Tổng phân tích nước tiểu / Urinalysis'], 46, 150, 257, 22, 2);
  box(d, 40, 290, 515, 50, 'Xét nghiệm khác / Other tests');
  box(d, 40, 345, 515, 50, 'Chẩn đoán, thông tin lâm sàng / Diagnosis, clinical information');
  d.fontSize(9); checks(d, ['Thường quy / Routine', 'Khẩn / Urgent', 'Cấp cứu / STAT'], 46, 405, 170, 20, 3);
  box(d, 40, 435, 255, 40, 'Người lấy mẫu, giờ lấy / Collected by, time'); box(d, 300, 435, 255, 40, 'Phòng xét nghiệm nhận, giờ / Received by lab, time');
  signLine(d, 490);
});

make(forms + 'radiology-request.pdf', 'PHIẾU YÊU CẦU CHẨN ĐOÁN HÌNH ẢNH (DỰ PHÒNG)', 'Imaging request during downtime — the department files the report back after recovery', (d) => {
  d.font(bold).fontSize(10).text('Loại / Modality', 40, 130);
  d.font(font); checks(d, ['X-quang / X-ray', 'Siêu âm / Ultrasound', 'CT', 'MRI', 'Tại giường / Portable', 'Khác / Other'], 46, 150, 170, 22, 3);
  box(d, 40, 200, 515, 40, 'Vùng chụp, tư thế / Region, views');
  box(d, 40, 245, 515, 60, 'Thông tin lâm sàng, câu hỏi cần trả lời / Clinical information, question to answer');
  d.font(bold).fontSize(10).text('An toàn / Safety', 40, 315);
  d.font(font); checks(d, ['Thuốc cản quang / Contrast', 'Dị ứng thuốc cản quang / Contrast allergy', 'Suy thận / Renal impairment', 'Có thai / Pregnant', 'Máy tạo nhịp, kim loại / Pacemaker, metal', 'Cần cách ly / Isolation'], 46, 335, 257, 22, 2);
  d.fontSize(9); checks(d, ['Thường quy / Routine', 'Khẩn / Urgent', 'Cấp cứu / STAT'], 46, 410, 170, 20, 3);
  signLine(d, 445);
});

make(forms + 'pharmacy-order.pdf', 'PHIẾU LĨNH THUỐC / Y LỆNH THUỐC (DỰ PHÒNG)', 'Pharmacy order during downtime — one line per drug; pharmacy enters it into the HIS after recovery', (d) => {
  const cols = [['Tên thuốc, hàm lượng / Drug, strength', 170], ['Liều / Dose', 60], ['Đường / Route', 55], ['Tần suất / Frequency', 80], ['Số lượng / Qty', 50], ['Bắt đầu / Start', 50], ['Dược / Pharmacy', 50]];
  let x = 40; const y0 = 130;
  d.font(bold).fontSize(7.5);
  for (const [c, w] of cols) { d.rect(x, y0, w, 26).stroke(); d.text(c, x + 2, y0 + 3, { width: w - 4 }); x += w; }
  d.font(font);
  for (let r = 0; r < 12; r++) { x = 40; for (const [, w] of cols) { d.rect(x, y0 + 26 + r * 28, w, 28).stroke(); x += w; } }
  d.fontSize(8).text('Thuốc nguy cơ cao (insulin, heparin, kali, opioid…): ghi rõ liều bằng chữ và kiểm tra chéo. / High-alert drugs: write the dose in words and double-check.', 40, y0 + 26 + 12 * 28 + 6, { width: 515 });
  signLine(d, y0 + 26 + 12 * 28 + 30);
});

make(forms + 'transfer.pdf', 'PHIẾU CHUYỂN KHOA / BÀN GIAO NGƯỜI BỆNH (DỰ PHÒNG)', 'Transfer and handover during downtime — ADT is entered into the HIS after recovery', (d) => {
  d.font(font);
  box(d, 40, 120, 255, 34, 'Từ khoa, giường / From ward, bed'); box(d, 300, 120, 255, 34, 'Đến khoa, giường / To ward, bed');
  box(d, 40, 159, 255, 34, 'Giờ chuyển / Time of transfer'); box(d, 300, 159, 255, 34, 'Lý do / Reason');
  d.font(bold).fontSize(10).text('Dấu hiệu sinh tồn lúc chuyển / Vital signs at transfer', 40, 203);
  const v = ['Mạch / HR', 'HA / BP', 'Nhiệt / Temp', 'NT / RR', 'SpO₂', 'Ý thức / GCS'];
  v.forEach((c, i) => box(d, 40 + i * 86, 220, 86, 34, c));
  d.font(bold).fontSize(10).text('Bàn giao / Handover', 40, 264);
  d.font(font); checks(d, ['Dị ứng đã kiểm tra / Allergies checked', 'Vòng tay đúng / Wristband checked', 'Phiếu thuốc đi kèm / MAR sent', 'Thuốc đang truyền / Infusions running', 'Đường truyền, ống dẫn lưu / Lines, drains', 'Hồ sơ giấy đi kèm / Paper record sent', 'Cách ly / Isolation', 'Người nhà đã báo / Family informed'], 46, 284, 257, 22, 2);
  box(d, 40, 380, 515, 60, 'Việc còn phải làm, lưu ý / Pending tasks, notes');
  d.fontSize(9).text('ĐD bàn giao / Handed over by: ____________________    ĐD nhận / Received by: ____________________    Giờ / Time: ________', 40, 455, { width: 515 });
});
