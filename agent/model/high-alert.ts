import { codesIn } from './helpers.js';

/**
 * High-alert medications (after the ISMP list for acute care): drugs whose
 * errors cause significant harm. Sources rarely flag them, so Paperback
 * recognises them by name; the source's own flag wins when it has one.
 */
const HIGH_ALERT_PATTERNS: readonly RegExp[] = [
  /insulin/i,
  /heparin/i,
  /enoxaparin|dalteparin|tinzaparin|fondaparinux/i,
  /warfarin|apixaban|rivaroxaban|dabigatran|edoxaban/i,
  /morphine|hydromorphone|fentanyl|oxycodone|methadone|pethidine|meperidine/i,
  /potassium chloride|potassium phosphate/i,
  /magnesium sulfate|magnesium sulphate/i,
  /sodium chloride (3|5|23\.4)\s?%/i,
  /digoxin|amiodarone|dopamine|dobutamine|norepinephrine|noradrenaline|epinephrine|adrenaline|vasopressin/i,
  /methotrexate|vincristine|cyclophosphamide|carboplatin|cisplatin/i,
  /propofol|ketamine|midazolam/i,
  /vecuronium|rocuronium|suxamethonium|succinylcholine/i,
  /nitroprusside|alteplase|tenecteplase/i,
];

/**
 * High-alert classes by ATC code (ISMP's acute-care list): insulins, anticoagulants and thrombolytics,
 * opioids, antineoplastics (oral and IV), concentrated electrolytes, inotropes and vasopressors,
 * digoxin, neuromuscular blockers, sedatives for IV use. By code the class is found whatever the name.
 */
const HIGH_ALERT_ATC: readonly string[] = [
  'A10A', // insulins
  'B01AA', 'B01AB', 'B01AE', 'B01AF', 'B01AD', // vitamin K antagonists, heparins, thrombin and Xa inhibitors, thrombolytics
  'N02A', 'N07BC', // opioids
  'L01', 'L04AX03', // antineoplastics, methotrexate
  'B05XA01', 'B05XA05', 'B05XA06', 'A12BA01', // potassium chloride, magnesium sulfate, potassium phosphate
  'C01CA', 'C01CX', 'H01BA01', 'C01AA', // adrenergic inotropes, vasopressin, digoxin
  'M03A', // neuromuscular blockers
  'N01AX10', 'N01AX03', 'N05CD08', // propofol, ketamine, midazolam
];

/** RxNorm ingredients of the commonest high-alert drugs (insulin, heparin, warfarin, morphine, KCl …). */
const HIGH_ALERT_RXNORM = new Set(['5856', '253182', '274783', '139825', '86009', '5224', '67108', '11289', '1364430', '1114195', '7052', '3423', '4337', '7804', '8591', '6851', '11124', '8782', '3407']);

/** Site additions from paperback.yaml (highAlert: { atc, names }). */
export interface HighAlertExtra {
  atc?: readonly string[];
  names?: readonly string[];
}

/** On the built-in list: by ATC class, RxNorm ingredient, or name. */
export function isHighAlertDrug(drug: string, codes: readonly string[] = []): boolean {
  if (codesIn(codes, /atc/i).some((code) => HIGH_ALERT_ATC.some((p) => code.startsWith(p)))) return true;
  if (codesIn(codes, /rxnorm/i).some((code) => HIGH_ALERT_RXNORM.has(code))) return true;
  return HIGH_ALERT_PATTERNS.some((re) => re.test(drug));
}

/** On the site's own list (paperback.yaml highAlert): by ATC prefix or a name fragment. */
export function onSiteHighAlertList(drug: string, codes: readonly string[], extra: HighAlertExtra): boolean {
  if (codesIn(codes, /atc/i).some((code) => (extra.atc ?? []).some((p) => code.startsWith(p.toUpperCase())))) return true;
  const lower = drug.toLowerCase();
  return (extra.names ?? []).some((n) => n.trim() && lower.includes(n.trim().toLowerCase()));
}
