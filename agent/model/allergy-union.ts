import type { Allergy, AllergyList } from './ward.js';
import { foldForSearch } from './helpers.js';

/**
 * Allergies from two systems about one patient (an ADT feed's AL1 and the
 * clinical FHIR server): the union, each allergy labelled with where it came
 * from, never one list replacing the other. An allergy known to only one
 * system is still an allergy. When the second list adds anything, the
 * first's "no known … allergies" statements no longer hold and are dropped:
 * paper must never say "no known drug allergy" beside a drug allergy.
 */
export function unionAllergies(primary: AllergyList, primarySource: string, added: AllergyList, addedSource: string): AllergyList {
  if (added.status !== 'recorded' || added.items.length === 0) return primary;
  if (primary.status === 'not-pulled') return { status: 'recorded', items: added.items.map((a) => ({ ...a, source: addedSource })) };
  const key = (a: Allergy) => foldForSearch(a.substance);
  const items: Allergy[] = primary.items.map((a) => ({ ...a, source: a.source ?? primarySource }));
  for (const a of added.items) {
    const same = items.find((x) => key(x) === key(a));
    if (same) same.source = `${same.source}, ${addedSource}`;
    else items.push({ ...a, source: addedSource });
  }
  return { status: 'recorded', items };
}
