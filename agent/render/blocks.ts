/**
 * The document model every renderer shares: a document is a list of blocks.
 * Templates produce blocks; the PDF engine and the HTML view both draw them,
 * so paper and screen cannot disagree.
 */

export type Tone = 'normal' | 'alert' | 'muted' | 'strong';

export interface Column {
  label: string;
  /** Relative width; the table spreads the page width in these proportions. */
  width: number;
  align?: 'left' | 'center' | 'right';
  /** Each line of a cell stays whole: shrunk to fit, never broken (bed labels). */
  nowrap?: boolean;
}

export interface Cell {
  text: string;
  tone?: Tone;
}

export type Block =
  | { type: 'heading'; text: string; level: 1 | 2 | 3 }
  | { type: 'text'; text: string; tone?: Tone }
  /** A boxed notice that cannot be missed (allergies, missing data, warnings). */
  | { type: 'notice'; title: string; lines: string[]; tone: 'alert' | 'normal' }
  | { type: 'fields'; items: { label: string; value: string; tone?: Tone }[] }
  | { type: 'table'; columns: Column[]; rows: { cells: Cell[]; tone?: Tone; minHeight?: number }[]; empty?: string }
  /** Start a new page (e.g. one MAR per patient); `patient` changes the per-page identity band. */
  | { type: 'page-break'; patient?: PatientStamp | null };

export interface PatientStamp {
  name: string;
  mrn: string;
  birthDate: string;
  bed: string;
  /** Barcode payload (the MRN); null when the MRN is unknown. */
  barcode: string | null;
  /** "MRN" in the sheet's language. */
  mrnLabel?: string;
  /** Allergies and code status, repeated in the band of every page: a nurse may hold page 3 alone. */
  alert?: string | null;
  /** The other identifiers the source knows (admission number, insurance card, citizen ID), labelled; after the bed. */
  ids?: string;
}

export interface Stamp {
  /** "DOWNTIME COPY" in the document's language. */
  marking: string;
  documentTitle: string;
  hospital: string;
  ward: string;
  /** Lines printed in every footer: as-of, source, rendered-at. */
  footer: string[];
  /** Template for page numbering, with {page} and {pages}. */
  pageLabel: string;
  /** A warning repeated on every page (e.g. a suspicious census). */
  banner: string | null;
  /** The hospital's logo (PNG or JPEG bytes) from templates/settings.yaml, or null. */
  logo?: Buffer | null;
}

export interface DocumentSpec {
  size: 'A4' | 'LETTER';
  orientation: 'portrait' | 'landscape';
  stamp: Stamp;
  /** Identity band for patient documents, repeated on every page; null for ward documents. */
  patient: PatientStamp | null;
  blocks: Block[];
  /** PDF metadata title (no patient names: PDF metadata leaks into print queues). */
  metaTitle: string;
}
