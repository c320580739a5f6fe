import type { DowntimeEntryLine, WardDeparture } from '../model/ward.js';
import { formatDateTime, type Translate } from './i18n.js';

/**
 * What paper says about an entry made on the box during a downtime: what
 * happened and when, then who entered it and when, and that it was entered
 * during the downtime (so a reader knows it is not yet in the HIS).
 */
export interface EntryWords {
  at: string;
  what: string;
  /** "ĐD. Lan · entered 08:20 during the downtime" */
  who: string;
  /** A dose not given, a correction: drawn in the alert tone. */
  alert: boolean;
}

const num = (v: unknown): string | null => (typeof v === 'number' ? String(v) : null);

export function vitalsWords(p: Record<string, unknown>, t: Translate): string {
  const parts = [
    num(p.temperatureC) && `${t('entry.vitals.temperature')} ${num(p.temperatureC)} °C`,
    num(p.pulse) && `${t('entry.vitals.pulse')} ${num(p.pulse)}/min`,
    num(p.systolic) && `${t('entry.vitals.bp')} ${num(p.systolic)}/${num(p.diastolic)} mmHg`,
    num(p.respiratoryRate) && `${t('entry.vitals.rr')} ${num(p.respiratoryRate)}/min`,
    num(p.spo2) && `SpO₂ ${num(p.spo2)} %`,
    num(p.pain) && `${t('entry.vitals.pain')} ${num(p.pain)}/10`,
  ];
  return parts.filter(Boolean).join(' · ');
}

function whatWords(e: DowntimeEntryLine, t: Translate): string {
  const p = e.payload;
  const s = (k: string) => (typeof p[k] === 'string' && p[k] ? (p[k] as string) : null);
  switch (e.kind) {
    case 'administration': {
      const outcome = t(`entry.outcome.${s('outcome') ?? 'given'}`);
      const detail = [s('dose'), s('route')].filter(Boolean).join(' ');
      const prn = s('prnReason') ? ` (PRN: ${s('prnReason')})` : '';
      const reason = s('reason') ? `: ${s('reason')}` : '';
      return `${s('drug') ?? ''} — ${outcome}${detail ? ` ${detail}` : ''}${prn}${reason}`;
    }
    case 'vitals':
      return vitalsWords(p, t);
    case 'note':
      return `${t('entry.note')}: ${s('text') ?? ''}`;
    case 'transfer':
      return s('toWard') ? t('entry.transferWard', { ward: [s('toWard'), s('toBed')].filter(Boolean).join(' · ') }) : t('entry.transferBed', { bed: s('toBed') ?? '?' });
    case 'discharge':
      return s('destination') ? t('entry.dischargeTo', { to: s('destination')! }) : t('entry.discharge');
  }
}

export function entryWords(e: DowntimeEntryLine, t: Translate, timeZone: string): EntryWords {
  const when = (iso: string) => formatDateTime(iso, timeZone) ?? iso;
  const notes = [e.correction ? t('entry.corrects', { reason: e.correction }) : null, e.filed ? t('entry.filed') : null].filter(Boolean);
  return {
    at: when(e.at),
    what: whatWords(e, t),
    who: `${e.by} · ${t('entry.enteredAt', { time: when(e.enteredAt) })}${notes.length ? `\n${notes.join(' · ')}` : ''}`,
    alert: (e.kind === 'administration' && e.payload.outcome !== 'given') || !!e.correction,
  };
}

export function departureWords(d: WardDeparture, t: Translate, timeZone: string): { bed: string; name: string; what: string; at: string; by: string } {
  return {
    bed: d.bed ?? '—',
    name: `${d.name ?? t('unknown')}${d.mrn ? ` · ${d.mrn}` : ''}`,
    what: d.kind === 'transfer' ? t('entry.transferWard', { ward: d.to ?? '?' }) : d.to ? t('entry.dischargeTo', { to: d.to }) : t('entry.discharge'),
    at: formatDateTime(d.at, timeZone) ?? d.at,
    by: d.by,
  };
}
