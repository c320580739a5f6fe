import type { Result } from '../../model/ward.js';
import type { CodeableConcept, FhirObservation } from './schemas.js';

/**
 * Observations (category laboratory or vital-signs) as results for paper:
 * the value as sent (a quantity with its comparator and unit, a string, a
 * coded answer, a blood pressure's two components), the reference range,
 * the source's interpretation flag and the time. Nothing is computed: a
 * result with no time cannot be placed in a window and is left out; one the
 * source withdrew (entered-in-error, cancelled) or has not produced
 * (registered) is not a result.
 */

const WITHDRAWN = new Set(['entered-in-error', 'cancelled', 'registered']);
const SYSTOLIC = '8480-6';
const DIASTOLIC = '8462-4';

const text = (c: CodeableConcept | undefined): string | null => c?.text ?? c?.coding?.find((x) => x.display)?.display ?? c?.coding?.find((x) => x.code)?.code ?? null;
const loinc = (c: CodeableConcept | undefined): string | null => c?.coding?.find((x) => x.system === 'http://loinc.org')?.code ?? null;

type Quantity = NonNullable<FhirObservation['valueQuantity']>;
const number = (v: number) => (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6))));
const quantityWords = (q: Quantity): string | null => (q.value === undefined ? null : `${q.comparator ?? ''}${number(q.value)}`);
const unitOf = (q: Quantity | undefined): string | null => q?.unit ?? (q?.code && q.code !== '1' ? q.code : null);

function valueOf(o: FhirObservation): { value: string; unit: string | null } | null {
  if (o.valueQuantity) {
    const v = quantityWords(o.valueQuantity);
    if (v !== null) return { value: v, unit: unitOf(o.valueQuantity) };
  }
  if (o.valueString !== undefined) return { value: o.valueString, unit: null };
  if (o.valueCodeableConcept) return { value: text(o.valueCodeableConcept) ?? '?', unit: null };
  if (o.valueBoolean !== undefined) return { value: o.valueBoolean ? 'yes' : 'no', unit: null };
  if (o.valueInteger !== undefined) return { value: String(o.valueInteger), unit: null };
  const parts = o.component ?? [];
  const sys = parts.find((c) => loinc(c.code) === SYSTOLIC)?.valueQuantity;
  const dia = parts.find((c) => loinc(c.code) === DIASTOLIC)?.valueQuantity;
  if (sys && dia && quantityWords(sys) && quantityWords(dia)) return { value: `${quantityWords(sys)}/${quantityWords(dia)}`, unit: unitOf(sys) ?? unitOf(dia) };
  const words = parts
    .map((c) => {
      const v = c.valueQuantity ? quantityWords(c.valueQuantity) : (c.valueString ?? text(c.valueCodeableConcept));
      return v === null || v === undefined ? null : `${text(c.code) ?? '?'} ${v}${c.valueQuantity && unitOf(c.valueQuantity) ? ` ${unitOf(c.valueQuantity)}` : ''}`;
    })
    .filter((x): x is string => x !== null);
  if (words.length) return { value: words.join('; '), unit: null };
  // No value, but the source says why: that is printed, so a missing result is never read as a normal one.
  if (o.dataAbsentReason) return { value: `— (${text(o.dataAbsentReason) ?? 'no value'})`, unit: null };
  return null;
}

function rangeOf(o: FhirObservation): string | null {
  const r = o.referenceRange?.[0];
  if (!r) return null;
  if (r.text) return r.text;
  const low = r.low?.value;
  const high = r.high?.value;
  if (low !== undefined && high !== undefined) return `${number(low)}–${number(high)}`;
  if (low !== undefined) return `≥ ${number(low)}`;
  if (high !== undefined) return `≤ ${number(high)}`;
  return null;
}

function flagOf(o: FhirObservation): string | null {
  const i = o.interpretation?.[0];
  const code = i?.coding?.find((c) => c.code)?.code ?? null;
  if (code === 'N') return null;
  return code ?? i?.text ?? null;
}

const categories = (o: FhirObservation) => new Set((o.category ?? []).flatMap((c) => (c.coding ?? []).map((x) => x.code ?? '')));
export const isVitalSign = (o: FhirObservation) => categories(o).has('vital-signs');
/** A result for the summary: categorised laboratory or vital-signs, or not categorised at all (many laboratory feeds send none); social history, exams, surveys … are not. */
const isResult = (o: FhirObservation) => {
  const c = categories(o);
  return c.size === 0 || c.has('laboratory') || c.has('vital-signs');
};

export function toResults(obs: FhirObservation[]): Result[] {
  const out: Result[] = [];
  for (const o of obs) {
    if (WITHDRAWN.has(o.status) || !isResult(o)) continue;
    const at = o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.effectiveInstant ?? o.issued;
    if (!at || Number.isNaN(Date.parse(at))) continue;
    const v = valueOf(o);
    if (!v) continue;
    out.push({
      category: isVitalSign(o) ? 'vital-signs' : 'laboratory',
      name: text(o.code) ?? 'unnamed test',
      value: v.value,
      unit: v.unit,
      range: rangeOf(o),
      flag: flagOf(o),
      at: new Date(at).toISOString(),
      preliminary: o.status === 'preliminary',
    });
  }
  return out.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
}
