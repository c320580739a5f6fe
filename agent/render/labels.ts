import { wardLabel, type AllergyList, type Patient, type WardSnapshot } from '../model/ward.js';
import { formatDate, formatDateTime, type Translate } from './i18n.js';

/**
 * What goes on a patient's wristband and labels, whoever draws it (a PDF for
 * an IPP or laser printer, ZPL for a thermal printer). Built from the census
 * for a patient the HIS knows, or from a downtime admission's record.
 */
export interface PatientLabel {
  name: string;
  /** As recorded: YYYY, YYYY-MM or YYYY-MM-DD. */
  birthDate: string | null;
  sex: 'male' | 'female' | 'other' | 'unknown' | null;
  /** The MRN, or the downtime number of a patient admitted while the HIS was down. */
  id: string;
  idKind: 'mrn' | 'downtime';
  ward: string;
  bed: string | null;
  allergies: Pick<AllergyList, 'status' | 'items'>;
  /** When the census this came from was as of; null for a downtime admission (entered on the box). */
  asOf: string | null;
}

/**
 * A label request as the print queue keeps it (a sealed blob): the words
 * already in the ward's language, drawn for whichever printer sends it (ZPL
 * for a thermal printer, PDF for any other), so a failover to another kind
 * of printer still prints the same label.
 */
export interface LabelRequest {
  what: 'wristband' | 'labels';
  /** Labels wanted (a sheet's worth by default); one wristband per copy. */
  count: number;
  /** What the barcode encodes: the MRN or the downtime number. */
  id: string;
  lines: LabelLines;
}

export const LABEL_MEDIA_TYPE = 'application/vnd.paperback.label+json';

export function labelFromPatient(snap: WardSnapshot, p: Patient): PatientLabel | null {
  if (!p.mrn) return null; // nothing to scan: a band without an identifier is not a band
  const bed = snap.beds.find((b) => b.id === p.bedId);
  return { name: p.name ?? '', birthDate: p.birthDate, sex: p.sex, id: p.mrn, idKind: 'mrn', ward: wardLabel(snap.ward), bed: bed?.label ?? null, allergies: { status: p.allergies.status, items: p.allergies.items }, asOf: snap.asOf };
}

/** The lines every label prints, in order; each says something, none is left out when unknown. */
export interface LabelLines {
  name: string;
  /** Birth date · sex */
  person: string;
  /** "MRN 0012345" or "Downtime no. DT3A-0001" */
  id: string;
  /** Ward · bed */
  place: string;
  /** Always present: the allergies, "no known allergies", or that they are unknown. */
  allergy: string;
  /** True when the allergy line must stand out (recorded, or not known). */
  allergyAlert: boolean;
  /** How old the allergy line is: the census's as-of time, or that the patient was admitted during a downtime. */
  asOf: string;
}

const MAX_ALLERGY_CHARS = 60;

export function labelLines(l: PatientLabel, t: Translate, timeZone: string): LabelLines {
  const born = formatDate(l.birthDate, timeZone) ?? t('label.bornUnknown');
  const sex = l.sex && l.sex !== 'unknown' ? t(`sex.${l.sex}`) : t('label.sexUnknown');
  let allergy: string;
  let allergyAlert = true;
  if (l.allergies.status === 'recorded') {
    const names = l.allergies.items.map((a) => a.substance).join(', ');
    allergy = `${t('label.allergy')}: ${names.length > MAX_ALLERGY_CHARS ? `${names.slice(0, MAX_ALLERGY_CHARS - 1)}… ${t('label.seeChart')}` : names}`;
  } else if (l.allergies.status === 'none-known') {
    allergy = t('allergy.nkaShort');
    allergyAlert = false;
  } else allergy = t('label.allergyUnknown');
  return {
    name: l.name || t('label.nameUnknown'),
    person: `${t('label.born')} ${born} · ${sex}`,
    id: `${l.idKind === 'mrn' ? t('census.mrn') : t('label.downtimeNumber')} ${l.id}`,
    place: `${l.ward} · ${t('census.bed')} ${l.bed ?? '—'}`,
    allergy,
    allergyAlert,
    asOf: l.asOf ? t('asOf', { time: formatDateTime(l.asOf, timeZone) ?? l.asOf }) : t('label.enteredInDowntime'),
  };
}

/** One row of a label, in millimetres from its top-left corner. */
export interface LabelRow {
  kind: 'text' | 'barcode';
  text: string;
  y: number;
  height: number;
  bold?: boolean;
  /** Drawn inside a box, so it is seen before anything else. */
  boxed?: boolean;
}

/**
 * Where each line goes on a label `heightMm` tall: the name biggest, the
 * barcode of the identifier at the bottom, the as-of time in small print.
 * The same rows serve the PDF and the ZPL, so both print the same label.
 */
export function labelRows(lines: LabelLines, id: string, heightMm: number): LabelRow[] {
  const m = Math.min(1.5, heightMm * 0.05);
  const usable = heightMm - 2 * m;
  const parts: [LabelRow['kind'], string, number, boolean, boolean][] = [
    ['text', lines.name, 0.2, true, false],
    ['text', lines.person, 0.11, false, false],
    ['text', lines.id, 0.11, true, false],
    ['text', lines.place, 0.11, false, false],
    ['text', lines.allergy, 0.14, true, lines.allergyAlert],
    ['barcode', id, 0.25, false, false],
    ['text', lines.asOf, 0.08, false, false],
  ];
  let y = m;
  return parts.map(([kind, text, share, bold, boxed]) => {
    const row: LabelRow = { kind, text, y, height: usable * share, ...(bold ? { bold } : {}), ...(boxed ? { boxed } : {}) };
    y += usable * share;
    return row;
  });
}

/** Where a band's print starts: the clasp end is left blank. */
export const CLASP_MM = 35;

/** A wristband's layout in millimetres: the lines across the band, how far along it they run, where the two barcodes go. */
export interface WristbandLayout {
  /** In order from the band's edge: each line's text, its height across the band, and whether it is bold. */
  lines: { text: string; height: number; bold: boolean }[];
  /** How far along the band, from the clasp end, the text may run. */
  textLength: number;
  /** Where each barcode starts along the band, and how long its bars are. */
  barcodes: { at: number; length: number }[];
}

/**
 * The one wristband layout both outputs draw (PDF and ZPL): six lines read
 * along the band, the name a size larger, bold where a nurse looks first
 * (name, identifier, allergies); then the barcode twice, as a ladder.
 */
export function wristbandLayout(lines: LabelLines, band: { widthMm: number; lengthMm: number }): WristbandLayout {
  const texts = [lines.name, lines.person, lines.id, lines.place, lines.allergy, lines.asOf];
  const sizes = texts.map((_, i) => (i === 0 ? 1.15 : 1));
  const lineH = Math.min(4.2, (band.widthMm - 2) / sizes.reduce((a, b) => a + b, 0));
  const textLength = Math.min(95, band.lengthMm - CLASP_MM - 60);
  return {
    lines: texts.map((text, i) => ({ text, height: sizes[i]! * lineH, bold: i === 0 || i === 2 || i === 4 })),
    textLength,
    barcodes: [0, 1].map((k) => ({ at: CLASP_MM + textLength + 4 + k * 26, length: 18 })),
  };
}

