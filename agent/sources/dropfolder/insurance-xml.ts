import { ExportFormatError } from './formats.js';
import { parseDtm, isDtmError } from '../hl7/dtm.js';
import { child, descendants, fields, readXmlTree, type XmlElement } from './xml-tree.js';

/**
 * The Ministry of Health's insurance XML (QĐ 130/QĐ-BYT, amended by 4750 and
 * 3176) read as a census and medication list. The envelope GIAMDINHHS holds
 * one HOSO per treatment episode; each HOSO holds its tables as FILEHOSO
 * (LOAIHOSO XML1 … XML15, NOIDUNGFILE = the table's XML in base64):
 *   XML1 TONG_HOP           patient, admission, department (MA_KHOA)
 *   XML2 CHI_TIET_THUOC     drugs as ordered per day (y lệnh)
 *   XML3 CHI_TIET_DVKT      services, bed-days carry MA_GIUONG
 *   XML5 CHI_TIET_DIEN_BIEN_BENH  clinical course (free text, with vital signs as the doctor wrote them)
 * These tables carry no allergies. Times are yyyymmddHHMM, wall-clock in the
 * box's zone. Any fault names the record (HOSO n, MA_LK when known), the
 * table, the row (STT) and the field, never a value.
 */

export interface InsuranceOrder {
  drug: string;
  dose: string | null;
  frequency: string | null;
  route: string | null;
  instructions: string | null;
  orderedAt: string;
  orderedBy: string | null;
}

export interface InsuranceRecord {
  linkCode: string;
  mrn: string;
  name: string;
  birthDate: string | null;
  sex: 'male' | 'female' | 'other' | null;
  insuranceCard: string | null;
  citizenId: string | null;
  recordNo: string | null;
  /** The department now: the last of MA_KHOA's codes. */
  wardCode: string;
  bed: string | null;
  admittedAt: string | null;
  dischargedAt: string | null;
  weightKg: number | null;
  diagnosis: string | null;
  icd: string | null;
  /** The orders of the latest order day (an inpatient's drugs are ordered afresh each day). */
  orders: InsuranceOrder[];
  orderDay: string | null;
  /** The latest clinical course entries, newest first, as written. */
  course: { at: string; text: string; by: string | null }[];
}

export interface InsuranceExport {
  facility: string | null;
  records: InsuranceRecord[];
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Longest clinical course text kept: a summary line, not the whole chart. */
const COURSE_CHARS = 600;
const COURSE_ENTRIES = 2;

function decodeTable(b64: string, where: string): XmlElement {
  const compact = b64.replace(/\s+/g, '');
  if (compact === '' || compact.length % 4 !== 0 || !BASE64.test(compact)) throw new ExportFormatError(`${where}: NOIDUNGFILE is not valid base64`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(compact, 'base64'));
  } catch {
    throw new ExportFormatError(`${where}: NOIDUNGFILE is not UTF-8 text once decoded`);
  }
  return readXmlTree(text.replace(/^\uFEFF/, ''), where);
}

/** yyyymmddHHMM in the box's zone → ISO instant; the fault names the field. */
function instant(v: string | undefined, where: string, field: string, timeZone: string, required: boolean): string | null {
  if (!v) {
    if (required) throw new ExportFormatError(`${where}: ${field} is required`);
    return null;
  }
  if (!/^\d{12}$/.test(v)) throw new ExportFormatError(`${where}: ${field} must be yyyymmddHHMM (12 digits)`);
  const at = parseDtm(v, timeZone);
  if (isDtmError(at) || at === null) throw new ExportFormatError(`${where}: ${field} is not a real date and time (${isDtmError(at) ? at.problem : 'empty'})`);
  return at;
}

/** NGAY_SINH: yyyymmddHHMM (or yyyymmdd), month and day 00 when unknown → YYYY, YYYY-MM or YYYY-MM-DD. */
function birthDate(v: string | undefined, where: string): string | null {
  if (!v) return null;
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2}))?$/.exec(v);
  if (!m) throw new ExportFormatError(`${where}: NGAY_SINH must be yyyymmddHHMM`);
  const [, y, mo, d] = m as unknown as [string, string, string, string];
  if (mo === '00') return d === '00' ? y : bad(where);
  if (Number(mo) > 12) return bad(where);
  if (d === '00') return `${y}-${mo}`;
  if (Number(d) < 1 || Number(d) > new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate()) return bad(where);
  return `${y}-${mo}-${d}`;
}
const bad = (where: string): never => {
  throw new ExportFormatError(`${where}: NGAY_SINH is not a real date`);
};

/**
 * LIEU_DUNG as MoH exports write it, "2 viên/lần * 2 lần/ngày" (sometimes
 * "x", sometimes "* 5 ngày" after): the dose per time and how often. Anything
 * else is kept whole as the dose, so nothing the doctor wrote is lost.
 */
export function parseDosage(text: string | undefined): { dose: string | null; frequency: string | null } {
  if (!text) return { dose: null, frequency: null };
  const m = /^\s*(.+?)\s*\/\s*lần\s*[*x×]\s*(\d+(?:[.,]\d+)?)\s*lần\s*\/\s*(ngày|giờ|tuần)(\s*[*x×]\s*\d+\s*ngày)?\s*$/iu.exec(text.normalize('NFC'));
  if (!m) return { dose: text.normalize('NFC').trim(), frequency: null };
  return { dose: m[1]!, frequency: `${m[2]} lần/${m[3]!.toLowerCase()}${m[4] ? ` (${m[4].replace(/^\s*[*x×]\s*/, '')})` : ''}` };
}

function sexOf(v: string | undefined, where: string): InsuranceRecord['sex'] {
  if (!v) return null;
  const s = { '1': 'male', '2': 'female', '3': 'other' }[v] as InsuranceRecord['sex'] | undefined;
  if (!s) throw new ExportFormatError(`${where}: GIOI_TINH must be 1, 2 or 3`);
  return s;
}

function numberOf(v: string | undefined, where: string, field: string, max: number): number | null {
  if (!v) return null;
  if (!/^\d+(\.\d+)?$/.test(v)) throw new ExportFormatError(`${where}: ${field} must be a number with a decimal point`);
  const n = Number(v);
  if (n <= 0 || n > max) throw new ExportFormatError(`${where}: ${field} is out of range`);
  return n;
}

/** Day of an instant in the box's zone, for "the latest order day". */
const dayFormats = new Map<string, Intl.DateTimeFormat>();
function dayIn(iso: string, timeZone: string): string {
  let f = dayFormats.get(timeZone);
  if (!f) dayFormats.set(timeZone, (f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return f.format(new Date(iso));
}

function readRecord(hoso: XmlElement, n: number, timeZone: string): InsuranceRecord {
  const tables = new Map<string, XmlElement>();
  for (const f of descendants(hoso, 'FILEHOSO')) {
    const kind = child(f, 'LOAIHOSO')?.text.trim().toUpperCase() ?? '';
    if (!kind) throw new ExportFormatError(`HOSO ${n}: a FILEHOSO has no LOAIHOSO`);
    if (tables.has(kind)) throw new ExportFormatError(`HOSO ${n}: ${kind} appears twice`);
    tables.set(kind, decodeTable(child(f, 'NOIDUNGFILE')?.text ?? '', `HOSO ${n} ${kind}`));
  }
  const xml1 = tables.get('XML1');
  if (!xml1) throw new ExportFormatError(`HOSO ${n}: no XML1 (TONG_HOP), so no patient or department`);
  const summary = xml1.name === 'TONG_HOP' ? xml1 : descendants(xml1, 'TONG_HOP')[0];
  if (!summary) throw new ExportFormatError(`HOSO ${n} XML1: no TONG_HOP element`);
  const f = fields(summary);
  const linkCode = f.get('MA_LK');
  // A fault names the record by its place in the file: MA_LK identifies a patient's stay, so it stays out of reasons and logs.
  const where = `HOSO ${n} XML1`;
  for (const req of ['MA_LK', 'MA_BN', 'HO_TEN', 'MA_KHOA'] as const) if (!f.get(req)) throw new ExportFormatError(`${where}: ${req} is required`);
  const rows = (kind: string, name: string) => {
    const t = tables.get(kind);
    return t ? descendants(t, name) : [];
  };
  const ownLink = (row: Map<string, string>, table: string, stt: string) => {
    const lk = row.get('MA_LK');
    if (lk && lk !== linkCode) throw new ExportFormatError(`HOSO ${n} ${table} row ${stt}: MA_LK differs from XML1's`);
  };

  // The bed: the latest bed-day's MA_GIUONG among the services (XML3).
  let bed: { code: string; at: string } | null = null;
  for (const [i, el] of rows('XML3', 'CHI_TIET_DVKT').entries()) {
    const r = fields(el);
    const stt = r.get('STT') ?? String(i + 1);
    ownLink(r, 'XML3', stt);
    const code = r.get('MA_GIUONG');
    if (!code) continue;
    const at = instant(r.get('NGAY_YL') ?? r.get('NGAY_TH_YL'), `HOSO ${n} XML3 row ${stt}`, 'NGAY_YL', timeZone, true)!;
    if (!bed || at >= bed.at) bed = { code: code.split(';').pop()!.trim(), at };
  }

  // Drugs: each order day's rows; the latest day is what is ordered now.
  const drugs = rows('XML2', 'CHI_TIET_THUOC').map((el, i) => {
    const r = fields(el);
    const stt = r.get('STT') ?? String(i + 1);
    const at = `HOSO ${n} XML2 row ${stt}`;
    ownLink(r, 'XML2', stt);
    const name = r.get('TEN_THUOC');
    if (!name) throw new ExportFormatError(`${at}: TEN_THUOC is required`);
    const strength = r.get('HAM_LUONG');
    const { dose, frequency } = parseDosage(r.get('LIEU_DUNG'));
    return {
      drug: `${name}${strength && !name.includes(strength) ? ` ${strength}` : ''}`.normalize('NFC'),
      dose,
      frequency,
      route: r.get('DUONG_DUNG') ?? null,
      instructions: r.get('CACH_DUNG')?.normalize('NFC') ?? null,
      orderedAt: instant(r.get('NGAY_YL'), at, 'NGAY_YL', timeZone, true)!,
      orderedBy: r.get('MA_BAC_SI') ?? null,
    };
  });
  const orderDay = drugs.length ? drugs.map((d) => dayIn(d.orderedAt, timeZone)).sort().pop()! : null;

  const course = rows('XML5', 'CHI_TIET_DIEN_BIEN_BENH')
    .map((el, i) => {
      const r = fields(el);
      const stt = r.get('STT') ?? String(i + 1);
      ownLink(r, 'XML5', stt);
      const text = r.get('DIEN_BIEN_LS')?.normalize('NFC');
      const at = instant(r.get('THOI_DIEM_DBLS'), `HOSO ${n} XML5 row ${stt}`, 'THOI_DIEM_DBLS', timeZone, Boolean(text));
      return text && at ? { at, text: text.length > COURSE_CHARS ? `${text.slice(0, COURSE_CHARS - 1)}…` : text, by: r.get('NGUOI_THUC_HIEN') ?? null } : null;
    })
    .filter((c): c is NonNullable<typeof c> => c !== null)
    .sort((a, b) => (a.at < b.at ? 1 : -1))
    .slice(0, COURSE_ENTRIES);

  return {
    linkCode: linkCode!,
    mrn: f.get('MA_BN')!,
    name: f.get('HO_TEN')!.normalize('NFC'),
    birthDate: birthDate(f.get('NGAY_SINH'), where),
    sex: sexOf(f.get('GIOI_TINH'), where),
    insuranceCard: f.get('MA_THE_BHYT') ?? null,
    citizenId: f.get('SO_CCCD') ?? null,
    recordNo: f.get('MA_HSBA') ?? null,
    wardCode: f.get('MA_KHOA')!.split(';').map((s) => s.trim()).filter(Boolean).pop()!,
    bed: bed?.code ?? null,
    admittedAt: instant(f.get('NGAY_VAO_NOI_TRU') ?? f.get('NGAY_VAO'), where, f.get('NGAY_VAO_NOI_TRU') ? 'NGAY_VAO_NOI_TRU' : 'NGAY_VAO', timeZone, false),
    dischargedAt: instant(f.get('NGAY_RA'), where, 'NGAY_RA', timeZone, false),
    weightKg: numberOf(f.get('CAN_NANG'), where, 'CAN_NANG', 500),
    diagnosis: f.get('CHAN_DOAN_VAO')?.normalize('NFC') ?? null,
    icd: f.get('MA_BENH_CHINH') ?? null,
    orders: orderDay ? drugs.filter((d) => dayIn(d.orderedAt, timeZone) === orderDay) : [],
    orderDay,
    course,
  };
}

/** The whole envelope, checked: SOLUONGHOSO must match what it holds (a cut file holds fewer). */
export function readInsuranceXml(text: string, timeZone: string): InsuranceExport {
  const root = readXmlTree(text.replace(/^\uFEFF/, ''), 'the file');
  if (root.name !== 'GIAMDINHHS') throw new ExportFormatError(`the root element is <${root.name.slice(0, 40)}>, not <GIAMDINHHS> (the insurance XML envelope)`);
  const info = child(root, 'THONGTINHOSO');
  if (!info) throw new ExportFormatError('GIAMDINHHS has no THONGTINHOSO');
  const hosos = descendants(info, 'HOSO');
  const declared = child(info, 'SOLUONGHOSO')?.text.trim();
  if (declared !== undefined && declared !== '' && Number(declared) !== hosos.length) throw new ExportFormatError(`SOLUONGHOSO says ${declared.slice(0, 10)} records but the file holds ${hosos.length}: it may be cut short`);
  if (hosos.length === 0) throw new ExportFormatError('the file holds no HOSO');
  const records = hosos.map((h, i) => readRecord(h, i + 1, timeZone));
  const seen = new Map<string, number>();
  for (const [i, r] of records.entries()) {
    const first = seen.get(r.linkCode);
    if (first !== undefined) throw new ExportFormatError(`HOSO ${i + 1} has the same MA_LK as HOSO ${first + 1}: one stay sent twice`);
    seen.set(r.linkCode, i);
  }
  return { facility: child(child(root, 'THONGTINDONVI') ?? root, 'MACSKCB')?.text.trim() || null, records };
}
