import { HL7_CHARSETS } from '../../model/hl7.js';

/**
 * MSH-18 (character set, HL7 table 0211): the bytes of a message are read in
 * the set its header declares, or in the source's configured default when it
 * declares none. Bytes that cannot be in that set are refused, never guessed:
 * a Vietnamese name read in the wrong set prints as mojibake, and a nurse
 * cannot tell mojibake from a real name on a wristband-less patient.
 */
export interface CharsetProblem {
  /** Table 0357 code: 103 for a set Paperback does not read, 102 for bytes not valid in the set. */
  code: 102 | 103;
  problem: string;
}

interface Charset {
  /** Decode strictly; throws on bytes not valid in the set. */
  decode(bytes: Buffer): string;
}

const strict = (label: string): Charset => {
  const d = new TextDecoder(label, { fatal: true });
  return { decode: (b) => d.decode(b) };
};

/** The 8859 parts: no byte 0x80–0x9F (C1 controls) in text; such bytes mean the sender really used a Windows code page. */
const iso8859 = (part: number): Charset => {
  // WHATWG maps the label iso-8859-1 to windows-1252; latin1 is the real 8859-1.
  const inner: Charset = part === 1 ? { decode: (b) => b.toString('latin1') } : strict(`iso-8859-${part}`);
  return {
    decode(b) {
      const bad = b.findIndex((x) => x >= 0x80 && x <= 0x9f);
      if (bad >= 0) throw new Error(`byte 0x${b[bad]!.toString(16)} at ${bad} is a control code in ISO 8859-${part}`);
      return inner.decode(b);
    },
  };
};

const ascii: Charset = {
  decode(b) {
    const bad = b.findIndex((x) => x >= 0x80);
    if (bad >= 0) throw new Error(`byte 0x${b[bad]!.toString(16)} at ${bad} is not ASCII`);
    return b.toString('latin1');
  },
};

const SETS: Record<string, Charset> = {
  ASCII: ascii,
  'UNICODE UTF-8': strict('utf-8'),
  // "UNICODE" alone was withdrawn in v2.5; senders that still send it mean UTF-8.
  UNICODE: strict('utf-8'),
  'GB 18030-2000': strict('gb18030'),
  'BIG-5': strict('big5'),
  'KS X 1001': strict('euc-kr'),
  'ISO IR87': strict('iso-2022-jp'),
};
for (const part of [1, 2, 3, 4, 5, 6, 7, 8, 9, 15]) SETS[`8859/${part}`] = iso8859(part);

/** The names this box reads (the model's list, which config validates against). */
export const SUPPORTED_CHARSETS: readonly string[] = HL7_CHARSETS;
for (const name of HL7_CHARSETS) if (!SETS[name]) throw new Error(`HL7 character set ${name} has no decoder`);

/** MSH-18's first repetition, read from the header's bytes (which are ASCII in every set we take). */
export function declaredCharset(bytes: Buffer): string | null {
  const end = bytes.findIndex((x) => x === 0x0d || x === 0x0a);
  const msh = bytes.subarray(0, end < 0 ? bytes.length : end).toString('latin1');
  if (!msh.startsWith('MSH') || msh.length < 8) return null;
  const fs = msh[3]!;
  const rep = msh[5] ?? '~';
  const value = (msh.split(fs)[17] ?? '').split(rep)[0]!.trim();
  return value === '' ? null : value;
}

/** The message as text, or why it cannot be read. */
export function decodeMessage(bytes: Buffer, defaultCharset: string): { text: string; charset: string } | CharsetProblem {
  const name = declaredCharset(bytes) ?? defaultCharset;
  const set = SETS[name.toUpperCase()] ?? SETS[name];
  if (!set) return { code: 103, problem: `MSH-18 character set "${name.slice(0, 30)}" is not one Paperback reads (${SUPPORTED_CHARSETS.join(', ')})` };
  try {
    return { text: set.decode(bytes), charset: name };
  } catch (err) {
    return { code: 102, problem: `bytes not valid in the declared character set ${name}: ${(err as Error).message.replace(/^The encoded data was not valid for encoding /, '').slice(0, 80)}` };
  }
}

/** Decode the bytes of an \Xhh..\ escape in the message's character set; null when they are not valid there. */
export function decodeHexBytes(hex: string, charset: string): string | null {
  const set = SETS[charset.toUpperCase()] ?? SETS[charset] ?? SETS['UNICODE UTF-8']!;
  try {
    return set.decode(Buffer.from(hex, 'hex'));
  } catch {
    return null;
  }
}
