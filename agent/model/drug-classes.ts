import type { Allergy, MedicationOrder } from './ward.js';
import { codesIn, foldForSearch } from './helpers.js';

/**
 * A conservative drug–allergy reminder: when an active order's drug belongs to
 * the same class as a recorded allergy, the sheet says "check allergy". It is a
 * prompt to look, not decision support: it knows a handful of classes, by ATC
 * code when the source sends one, by RxNorm ingredient for the commonest
 * drugs, and otherwise by name (English and Vietnamese spellings). It errs
 * towards flagging: a penicillin allergy flags every beta-lactam. A drug it
 * does not know is never flagged, so no flag does not mean no risk.
 */
export type DrugClass = 'beta-lactam' | 'sulfonamide' | 'nsaid' | 'opioid' | 'iodinated-contrast' | 'latex';

interface ClassDef {
  id: DrugClass;
  /** ATC code prefixes. */
  atc: string[];
  /** RxNorm ingredient codes (RXCUI) of the commonest members. */
  rxnorm: string[];
  /** Names, matched as words or word starts, accents folded. */
  names: RegExp;
}

const CLASSES: readonly ClassDef[] = [
  {
    id: 'beta-lactam',
    // Penicillins J01C, cephalosporins J01DB–DE, monobactams J01DF, carbapenems J01DH.
    atc: ['J01C', 'J01DB', 'J01DC', 'J01DD', 'J01DE', 'J01DF', 'J01DH'],
    rxnorm: ['7980', '733', '723', '7984', '2176', '2180', '2186', '2191', '2193', '20481', '29561', '8339', '1596450'],
    names: /\b(penicillin|penicilin|amoxi|ampi|piperacil|ticarcil|oxacil|cloxacil|flucloxacil|dicloxacil|nafcil|benzylpenicil|phenoxymethylpenicil|augmentin|unasyn|tazocin|cef|ceph|kefzol|rocephin|meropenem|imipenem|ertapenem|doripenem|aztreonam|beta-?lactam)/i,
  },
  {
    id: 'sulfonamide',
    atc: ['J01E'],
    rxnorm: ['10180', '10207'],
    names: /\b(sulfa|sulpha|sulfamethoxazol|sulfadiazin|co-?trimoxazol|cotrimoxazol|bactrim|septrin|biseptol)/i,
  },
  {
    id: 'nsaid',
    // Aspirin N02BA and B01AC06, NSAIDs M01A.
    atc: ['N02BA', 'B01AC06', 'M01A'],
    rxnorm: ['1191', '5640', '7258', '3355', '35827', '140587', '41493'],
    names: /\b(aspirin|acetylsalicyl|axit acetylsalicylic|ibuprofen|naproxen|diclofenac|ketorolac|indomethacin|indometacin|celecoxib|meloxicam|piroxicam|etoricoxib|ketoprofen|nsaids?|non-?steroidal)/i,
  },
  {
    id: 'opioid',
    atc: ['N02A', 'N07BC', 'R05DA'],
    rxnorm: ['7052', '2670', '7804', '3423', '4337', '10689', '6754', '6813'],
    names: /\b(opioid|opiate|morphin|codein|oxycodon|hydromorphon|fentanyl|tramadol|pethidin|meperidin|methadon|tapentadol|buprenorphin|hydrocodon|sufentanil|remifentanil)/i,
  },
  {
    id: 'iodinated-contrast',
    atc: ['V08A'],
    rxnorm: [],
    names: /\b(iohexol|iopamidol|iodixanol|iopromid|ioversol|iomeprol|omnipaque|visipaque|ultravist|iodinated contrast|contrast media|thuốc cản quang|can quang)/i,
  },
  { id: 'latex', atc: [], rxnorm: [], names: /\b(latex|cao su)/i },
];

/** The classes a drug or substance belongs to, from its codes ("system|code") and its name. */
export function drugClassesOf(name: string, codes: readonly string[] = []): Set<DrugClass> {
  const out = new Set<DrugClass>();
  const folded = foldForSearch(name);
  const atc = codesIn(codes, /atc/i);
  const rxnorm = codesIn(codes, /rxnorm/i);
  for (const c of CLASSES) {
    const byCode = atc.some((code) => c.atc.some((p) => code.startsWith(p))) || rxnorm.some((code) => c.rxnorm.includes(code));
    if (byCode || c.names.test(name) || c.names.test(folded)) out.add(c.id);
  }
  return out;
}

export interface AllergyConflict {
  /** The allergy's substance, as the source named it. */
  allergy: string;
  drugClass: DrugClass;
}

/** Recorded allergies (confirmed or not) whose class an order's drug shares. */
export function allergyConflicts(order: MedicationOrder, allergies: readonly Allergy[]): AllergyConflict[] {
  if (order.doNotPerform) return [];
  const drug = drugClassesOf(order.drug, order.codes ?? []);
  if (drug.size === 0) return [];
  const out: AllergyConflict[] = [];
  for (const a of allergies) {
    for (const cls of drugClassesOf(a.substance, a.codes ?? [])) if (drug.has(cls)) out.push({ allergy: a.substance, drugClass: cls });
  }
  return out;
}
