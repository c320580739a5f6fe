import { z } from 'zod';

/**
 * What a nurse records on the ward page during a downtime (issue #25): a
 * dose given or not, vital signs, a note, a transfer or a discharge. Each is
 * checked here, at the boundary, with the limits a person could mistype past;
 * the store keeps it sealed, append-only, with when it happened and when and
 * by whom it was entered.
 */
const text = (max: number) => z.string().trim().min(1).max(max);
const optText = (max: number) => z.string().trim().max(max).optional().transform((v) => (v ? v : undefined));

export const administrationEntry = z
  .object({
    kind: z.literal('administration'),
    /** The MAR order it answers, when it answers one; a dose of a drug written by hand has none. */
    orderId: z.string().trim().max(100).nullable(),
    drug: text(300),
    outcome: z.enum(['given', 'held', 'refused', 'not-given']),
    reason: optText(300),
    /** Only when they differ from the order. */
    dose: optText(100),
    route: optText(60),
    prnReason: optText(200),
  })
  .strict()
  .refine((e) => e.outcome === 'given' || e.reason, { message: 'a dose held, refused or not given needs its reason', path: ['reason'] });

export const vitalsEntry = z
  .object({
    kind: z.literal('vitals'),
    temperatureC: z.number().min(30).max(45).optional(),
    pulse: z.number().int().min(20).max(250).optional(),
    systolic: z.number().int().min(40).max(300).optional(),
    diastolic: z.number().int().min(20).max(200).optional(),
    respiratoryRate: z.number().int().min(4).max(80).optional(),
    spo2: z.number().int().min(50).max(100).optional(),
    pain: z.number().int().min(0).max(10).optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).some((k) => k !== 'kind'), { message: 'give at least one vital sign' })
  .refine((v) => (v.systolic === undefined) === (v.diastolic === undefined), { message: 'a blood pressure needs both its numbers', path: ['diastolic'] })
  .refine((v) => v.systolic === undefined || v.diastolic === undefined || v.systolic > v.diastolic, { message: 'the systolic pressure must be above the diastolic', path: ['systolic'] });

export const noteEntry = z.object({ kind: z.literal('note'), text: text(4000) }).strict();

export const transferEntry = z
  .object({ kind: z.literal('transfer'), toBed: optText(20), toWard: optText(80) })
  .strict()
  .refine((t) => t.toBed || t.toWard, { message: 'say the bed or the ward the patient went to' });

export const dischargeEntry = z.object({ kind: z.literal('discharge'), destination: optText(200) }).strict();

export const entryPayload = z.union([administrationEntry, vitalsEntry, noteEntry, transferEntry, dischargeEntry]);
export type EntryPayload = z.infer<typeof entryPayload>;
export type EntryKind = EntryPayload['kind'];

/** Where an entry stands in filing back to the HIS. */
export type EntryState = 'pending' | 'filed' | 'failed' | 'rejected' | 'needs-person';

/**
 * The filing states and the only moves between them (store/downtime-entries.ts):
 *
 *   [record] ──▶ pending ──file──▶ filed
 *                  │  ▲
 *             fail │  │ retry
 *                  ▼  │
 *                failed ──reject──▶ rejected        (the HIS refused it: a person decides)
 *   pending|failed ──conflict──▶ needs-person       (the HIS already has it, the patient moved …)
 *   needs-person ──resolve──▶ filed | rejected      (by a named person, with a reason)
 */
export const ENTRY_MOVES: Record<string, { from: readonly EntryState[]; to: EntryState }> = {
  file: { from: ['pending', 'failed'], to: 'filed' },
  fail: { from: ['pending', 'failed'], to: 'failed' },
  retry: { from: ['failed'], to: 'pending' },
  reject: { from: ['pending', 'failed'], to: 'rejected' },
  conflict: { from: ['pending', 'failed'], to: 'needs-person' },
  resolveFiled: { from: ['needs-person'], to: 'filed' },
  resolveRejected: { from: ['needs-person'], to: 'rejected' },
};
