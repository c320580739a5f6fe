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
