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

export function isHighAlertDrug(drug: string): boolean {
  return HIGH_ALERT_PATTERNS.some((re) => re.test(drug));
}
