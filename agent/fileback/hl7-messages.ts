import type { Patient } from '../model/ward.js';
import { formatDtm } from '../sources/hl7/dtm.js';
import { escapeHl7 } from '../sources/hl7/escapes.js';
import type { Entry } from '../store/downtime-entries.js';
import { controlId } from './identifiers.js';
import { vitalValues } from './vital-codes.js';

/**
 * An entry as the HL7 v2.5.1 message an interface engine takes (issue #25):
 * a move ADT^A02, a discharge ADT^A03 (EVN-6 when it happened, EVN-2 when it
 * was entered), a dose RAS^O17 (RXA-3 given, RXA-22 entered), vital signs
 * and notes ORU^R01. The message is made from the entry alone, so a resend
 * is byte for byte the same, with the same MSH-10.
 */
export interface Hl7Target {
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  host: string;
  port: number;
  timeoutMs: number;
}

/** Values inside a field: the delimiters are escaped, line breaks become the HL7 break. */
export function hl7Text(v: string | null | undefined): string {
  return escapeHl7(v ?? '').replace(/\r\n|\r|\n/g, '\\.br\\');
}

const SEX: Record<string, string> = { female: 'F', male: 'M', other: 'O' };

/** MSH: v2.5.1, UTF-8, MSH-7 the entry's own time (a resend is the same bytes), original mode ACK always. */
const mshSegment = (t: Pick<Hl7Target, 'sendingApplication' | 'sendingFacility' | 'receivingApplication' | 'receivingFacility'>, at: string, type: string, id: string) =>
  `MSH|^~\\&|${hl7Text(t.sendingApplication)}|${hl7Text(t.sendingFacility)}|${hl7Text(t.receivingApplication)}|${hl7Text(t.receivingFacility)}|${at}||${type}|${id}|P|2.5.1|||AL|NE||UNICODE UTF-8`;

/** A patient admitted on the box during a downtime, as the A01 gives her to the HIS. */
export interface AdmittedPatient {
  number: string;
  family: string;
  given: string;
  birthDate: string;
  sex: string;
  bed: string | null;
  enteredAt: string;
  enteredBy: string;
}

/**
 * ADT^A01 for a downtime admission: PID-3 her downtime number (type PI, the
 * box as assigning authority: it is not an MRN), EVN-2 when she was entered,
 * EVN-6 and PV1-44 when she was admitted (the same moment, on this box).
 * Registration then merges or maps the record, as after any downtime.
 */
export function admissionMessage(a: AdmittedPatient, o: { target: Pick<Hl7Target, 'sendingApplication' | 'sendingFacility' | 'receivingApplication' | 'receivingFacility'>; timeZone: string; ward: { id: string; code?: string } | null }): { message: string; controlId: string } {
  const id = controlId(`admission/${a.number}`);
  const at = formatDtm(new Date(a.enteredAt), o.timeZone);
  const ward = hl7Text(o.ward?.code ?? o.ward?.id ?? '');
  const pv1 = Array.from({ length: 45 }, () => '');
  pv1[0] = 'PV1';
  pv1[1] = '1';
  pv1[2] = 'I';
  pv1[3] = `${ward}^^${hl7Text(a.bed ?? '')}`;
  pv1[44] = at;
  const segments = [
    mshSegment(o.target, at, 'ADT^A01^ADT_A01', id),
    `EVN|A01|${at}||||${at}|${hl7Text(a.enteredBy)}`,
    `PID|1||${hl7Text(a.number)}^^^${hl7Text(o.target.sendingApplication)}^PI||${hl7Text(a.family)}^${hl7Text(a.given)}||${a.birthDate.replace(/-/g, '')}|${SEX[a.sex] ?? 'U'}`,
    pv1.join('|'),
  ];
  return { message: segments.join('\r'), controlId: id };
}

export function entryMessage(e: Entry, p: Patient, o: { target: Pick<Hl7Target, 'sendingApplication' | 'sendingFacility' | 'receivingApplication' | 'receivingFacility'>; timeZone: string; ward: { id: string; name: string; code?: string } | null }): { message: string; controlId: string } {
  const id = controlId(e.uid);
  const dtm = (iso: string) => formatDtm(new Date(iso), o.timeZone);
  const occurred = dtm(e.occurredAt);
  const entered = dtm(e.enteredAt);
  const ward = hl7Text(o.ward?.code ?? o.ward?.id ?? '');
  const bed = hl7Text(p.bedId ?? '');
  const msh = (type: string) => mshSegment(o.target, entered, type, id);
  // A downtime admission is known to the HIS by her downtime number (her A01), not an MRN.
  const cx = p.downtimeAdmission ? `${hl7Text(p.downtimeAdmission.number)}^^^${hl7Text(o.target.sendingApplication)}^PI` : `${hl7Text(p.mrn ?? '')}^^^^MR`;
  const pid = `PID|1||${cx}||${hl7Text(p.name ?? '')}||${(p.birthDate ?? '').replace(/-/g, '')}|${SEX[p.sex ?? ''] ?? 'U'}`;
  const pv1 = (location = `${ward}^^${bed}`, extra = '') => `PV1|1|I|${location}${extra}`;
  const by = hl7Text(e.enteredBy);
  const payload = e.payload;
  let segments: string[];
  switch (payload.kind) {
    case 'transfer': {
      const to = payload.toWard ? `${hl7Text(payload.toWard)}^^${hl7Text(payload.toBed ?? '')}` : `${ward}^^${hl7Text(payload.toBed ?? '')}`;
      segments = [msh('ADT^A02^ADT_A02'), `EVN|A02|${entered}||||${occurred}`, pid, `${pv1(to)}|||${ward}^^${bed}`];
      break;
    }
    case 'discharge': {
      // PV1-36 discharge disposition left to the HIS; PV1-37 where she went; PV1-45 when.
      const fields = Array.from({ length: 45 }, () => '');
      fields[0] = 'PV1';
      fields[1] = '1';
      fields[2] = 'I';
      fields[3] = `${ward}^^${bed}`;
      fields[37] = hl7Text(payload.destination ?? '');
      fields[45] = occurred;
      segments = [msh('ADT^A03^ADT_A03'), `EVN|A03|${entered}||||${occurred}`, pid, fields.join('|')];
      break;
    }
    case 'administration': {
      const status = payload.outcome === 'given' ? 'CP' : payload.outcome === 'refused' ? 'RE' : 'NA';
      const rxa = Array.from({ length: 23 }, () => '');
      rxa[0] = 'RXA';
      rxa[1] = '0';
      rxa[2] = '1';
      rxa[3] = occurred;
      rxa[4] = occurred;
      rxa[5] = `^${hl7Text(payload.drug)}`;
      rxa[9] = [payload.dose && `dose ${payload.dose}`, payload.route && `route ${payload.route}`, payload.prnReason && `PRN ${payload.prnReason}`, 'entered during downtime'].filter(Boolean).map((x) => `^${hl7Text(x as string)}`).join('~');
      rxa[10] = `^${by}`;
      if (payload.outcome !== 'given') rxa[18] = `^${hl7Text([payload.outcome, payload.reason].filter(Boolean).join(': '))}`;
      rxa[20] = status;
      rxa[22] = entered;
      segments = [msh('RAS^O17^RAS_O17'), pid, pv1(), `ORC|RE|${hl7Text(payload.orderId ?? '')}`, rxa.join('|')];
      break;
    }
    case 'vitals': {
      const obx = vitalValues(payload).map((m, i) => `OBX|${i + 1}|NM|${m.code.loinc}^${hl7Text(m.code.display)}^LN||${m.value}|${hl7Text(m.code.ucum)}^^UCUM|||||F|||${occurred}||^${by}`);
      segments = [msh('ORU^R01^ORU_R01'), pid, pv1(), `OBR|1|||85353-1^Vital signs panel^LN|||${occurred}|||||||||||||||${entered}|||F`, ...obx];
      break;
    }
    case 'note':
      segments = [msh('ORU^R01^ORU_R01'), pid, pv1(), `OBR|1|||34746-8^Nurse note^LN|||${occurred}|||||||||||||||${entered}|||F`, `OBX|1|TX|34746-8^Nurse note^LN||${hl7Text(payload.text)}||||||F|||${occurred}||^${by}`];
      break;
  }
  return { message: segments.join('\r'), controlId: id };
}
