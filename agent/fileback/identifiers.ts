import crypto from 'node:crypto';

/**
 * What file-back sends is named by the entry, never by the attempt: the same
 * entry sent twice (a crash after the HIS took it, a timeout) carries the same
 * identifiers, so the HIS can recognise it and never records it twice.
 */

/** RFC 3986 as the identifier system: the value is itself a URI, here a urn:uuid. */
export const URI_SYSTEM = 'urn:ietf:rfc:3986';

/** A UUID for one part of an entry (a blood pressure and a pulse are two Observations), stable from its uid. */
export function partUuid(entryUid: string, part: string): string {
  if (!part) return entryUid;
  const h = crypto.createHash('sha256').update(`${entryUid}/${part}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80; // version 8 (custom, RFC 9562)
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export const entryIdentifier = (entryUid: string, part = '') => ({ system: URI_SYSTEM, value: `urn:uuid:${partUuid(entryUid, part)}` });

/** The search that finds what an entry already filed (FHIR ifNoneExist). */
export const ifNoneExist = (entryUid: string, part = '') => `identifier=${encodeURIComponent(URI_SYSTEM)}|${encodeURIComponent(`urn:uuid:${partUuid(entryUid, part)}`)}`;

/**
 * The HL7 message control id (MSH-10) of an entry: 20 characters, the
 * length interface engines commonly keep, from the entry's uid. A resend
 * reuses it; an ACK is matched to the entry by it.
 */
export function controlId(entryUid: string): string {
  const n = BigInt(`0x${crypto.createHash('sha256').update(`msh10/${entryUid}`).digest('hex').slice(0, 24)}`);
  return `PB${n.toString(36).toUpperCase().padStart(18, '0').slice(-18)}`;
}
