/**
 * HL7 v2 table 0211 character sets Paperback reads (MSH-18). Kept here,
 * with no code, so config validation and the HL7 reader share one list.
 */
export const HL7_CHARSETS = ['ASCII', 'UNICODE UTF-8', 'UNICODE', '8859/1', '8859/2', '8859/3', '8859/4', '8859/5', '8859/6', '8859/7', '8859/8', '8859/9', '8859/15', 'GB 18030-2000', 'BIG-5', 'KS X 1001', 'ISO IR87'] as const;
export type Hl7Charset = (typeof HL7_CHARSETS)[number];
