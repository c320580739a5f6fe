/**
 * Insurance XML files (QĐ 130/QĐ-BYT as amended by 4750) built from the
 * published field lists: the GIAMDINHHS envelope, one HOSO per stay, each
 * table base64 in FILEHOSO/NOIDUNGFILE. Tests pass the fields a record has;
 * the tables are wrapped the way exporters write them.
 */
export type Row = Record<string, string>;

export interface Stay {
  xml1: Row;
  xml2?: Row[];
  xml3?: Row[];
  xml5?: Row[];
  /** Replace a table's base64 with this text (a broken export). */
  raw?: Partial<Record<'XML1' | 'XML2' | 'XML3' | 'XML5', string>>;
}

const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fieldsXml = (r: Row) => Object.entries(r).map(([k, v]) => `<${k}>${esc(v)}</${k}>`).join('');
const b64 = (xml: string) => Buffer.from(`<?xml version="1.0" encoding="utf-8"?>\n${xml}`, 'utf8').toString('base64');

function tables(s: Stay): [string, string][] {
  const t: [string, string][] = [['XML1', `<TONG_HOP>${fieldsXml(s.xml1)}</TONG_HOP>`]];
  if (s.xml2) t.push(['XML2', `<CHITIEU_CHITIET_THUOC><DSACH_CHI_TIET_THUOC>${s.xml2.map((r) => `<CHI_TIET_THUOC>${fieldsXml(r)}</CHI_TIET_THUOC>`).join('')}</DSACH_CHI_TIET_THUOC></CHITIEU_CHITIET_THUOC>`]);
  if (s.xml3) t.push(['XML3', `<CHITIEU_CHITIET_DVKT_VTYT><DSACH_CHI_TIET_DVKT>${s.xml3.map((r) => `<CHI_TIET_DVKT>${fieldsXml(r)}</CHI_TIET_DVKT>`).join('')}</DSACH_CHI_TIET_DVKT></CHITIEU_CHITIET_DVKT_VTYT>`]);
  if (s.xml5) t.push(['XML5', `<CHITIEU_CHITIET_DIENBIENLAMSANG><DSACH_CHI_TIET_DIEN_BIEN_BENH>${s.xml5.map((r) => `<CHI_TIET_DIEN_BIEN_BENH>${fieldsXml(r)}</CHI_TIET_DIEN_BIEN_BENH>`).join('')}</DSACH_CHI_TIET_DIEN_BIEN_BENH></CHITIEU_CHITIET_DIENBIENLAMSANG>`]);
  return t;
}

export function insuranceXml(stays: Stay[], opts: { facility?: string; declared?: number } = {}): string {
  const hoso = stays
    .map((s) => `<HOSO>${tables(s).map(([kind, xml]) => `<FILEHOSO><LOAIHOSO>${kind}</LOAIHOSO><NOIDUNGFILE>${s.raw?.[kind as 'XML1'] ?? b64(xml)}</NOIDUNGFILE></FILEHOSO>`).join('')}</HOSO>`)
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<GIAMDINHHS>
<THONGTINDONVI><MACSKCB>${opts.facility ?? '79001'}</MACSKCB></THONGTINDONVI>
<THONGTINHOSO><NGAYLAP>20261122</NGAYLAP><SOLUONGHOSO>${opts.declared ?? stays.length}</SOLUONGHOSO>
<DANHSACHHOSO>
${hoso}
</DANHSACHHOSO>
</THONGTINHOSO>
<CHUKYDONVI></CHUKYDONVI>
</GIAMDINHHS>
`;
}

/** XML1 (TONG_HOP) for one stay with the fields a ward census uses, in the published order. */
export function tongHop(linkCode: string, o: Partial<Row> & { MA_BN: string; HO_TEN: string; MA_KHOA: string }): Row {
  return {
    MA_LK: linkCode,
    STT: '1',
    MA_BN: o.MA_BN,
    HO_TEN: o.HO_TEN,
    SO_CCCD: o.SO_CCCD ?? '',
    NGAY_SINH: o.NGAY_SINH ?? '195003040000',
    GIOI_TINH: o.GIOI_TINH ?? '2',
    MA_THE_BHYT: o.MA_THE_BHYT ?? '',
    CHAN_DOAN_VAO: o.CHAN_DOAN_VAO ?? '',
    MA_BENH_CHINH: o.MA_BENH_CHINH ?? '',
    NGAY_VAO: o.NGAY_VAO ?? '202611200800',
    NGAY_VAO_NOI_TRU: o.NGAY_VAO_NOI_TRU ?? '',
    NGAY_RA: o.NGAY_RA ?? '',
    MA_LOAI_KCB: '03',
    MA_KHOA: o.MA_KHOA,
    MA_CSKCB: '79001',
    CAN_NANG: o.CAN_NANG ?? '',
    MA_HSBA: o.MA_HSBA ?? '',
  };
}
