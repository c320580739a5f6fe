import { patientKey } from '../model/helpers.js';
import type { Patient, WardSnapshot } from '../model/ward.js';
import { DOCUMENT_TITLE_KEYS } from './documents.js';
import type { Translate } from './i18n.js';

/** Wording keys of what is printed besides a snapshot's documents. */
const OTHER_TITLE_KEYS: Record<string, string> = { 'pack-cover': 'pack.title', form: 'downtime.form' };
const WARD_DOCUMENTS = new Set(['census', 'allergies', 'handoff']);

/** A print job's address as staff know it: what it is, and whose, with her bed on the ward given. */
export interface PrintedThing {
  title: string;
  /** The patient key or downtime number the address names, whether or not the ward knows it. */
  key: string | null;
  patient: Patient | null;
  bed: string | null;
}

/**
 * What a print address (JOB/mar/KEY, JOB/patient/KEY/wristband,
 * JOB/admission/NUMBER/labels, JOB/pack-cover, test/PRINTER …) stands for,
 * never the address itself: the document's title in `t`'s language, and the
 * patient from the ward `wardOf` gives (the snapshot the caller trusts for
 * it), asked for only when the address names a patient.
 */
export function describePrint(address: string, wardOf: () => WardSnapshot | null, t: Translate): PrintedThing {
  const [jobId = '', kind = '', ...rest] = address.split('/');
  if (jobId === 'test') return { title: t('ui.admin.testPage'), key: null, patient: null, bed: null };
  const label = (kind === 'patient' || kind === 'admission') && (rest[1] === 'wristband' || rest[1] === 'labels') ? rest[1] : null;
  const titleKey = label ? (label === 'wristband' ? 'ui.labels.wristband' : 'ui.labels.labels') : ((DOCUMENT_TITLE_KEYS as Record<string, string>)[kind] ?? OTHER_TITLE_KEYS[kind]);
  const title = titleKey ? t(titleKey) : kind || address;
  if (kind === 'admission') return { title, key: rest[0] ?? null, patient: null, bed: null };
  const key = (label ? rest[0] : rest.at(-1)) ?? null;
  if (!key || WARD_DOCUMENTS.has(kind)) return { title, key: null, patient: null, bed: null };
  const ward = wardOf();
  const patient = ward?.patients.find((p) => patientKey(p) === key) ?? null;
  const bed = patient ? (ward!.beds.find((b) => b.id === patient.bedId)?.label ?? '—') : null;
  return { title, key, patient, bed };
}
