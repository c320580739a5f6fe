import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { Hl7SourceConfig } from '../../config/schema.js';
import { faultPoint } from '../../store/faults.js';
import type { BlobStore } from '../../store/blobs.js';
import type { Db } from '../../store/db.js';
import { nowIso } from '../../store/db.js';
import { buildAck, receivedHeader, type AckProblem } from './ack.js';
import { AdtError, parseAdt, readHeader, type AdtEvent, type AdtLocation } from './adt.js';
import { applyAdtEvent, mergeAdtRecords, readAdtRecord, refusal, retiredRecord, writeAdtRecord, type ApplyOutcome } from './adt-census.js';
import { declaredCharset, decodeMessage } from './charset.js';
import type { MllpReply } from './mllp.js';
import type { NameOrder } from '../../model/names.js';
import { errorFields } from '../../log/errors.js';

export interface AdtFeedDeps {
  db: Db;
  blobs: BlobStore;
  log: Logger;
  /** The box's ward ids, for point-of-care codes that are ward ids themselves. */
  wardIds: () => string[];
  timeZone: string;
  nameOrder: NameOrder;
  now?: () => Date;
}

export interface AdtFeed {
  /** Decode, check, store, acknowledge, then apply: the AA goes out only after the message is on disk. */
  receive(raw: Buffer, peer: string): Promise<MllpReply>;
  /** Apply every stored message not yet applied, oldest first (also after a restart). */
  applyPending(): number;
  /** Keep what cannot be accepted, sealed, with its reason; `none`: nothing was answered (a discarded partial frame). */
  quarantine(raw: Buffer, peer: string, code: 'AE' | 'AR' | 'none', reason: string): void;
  /** A frame over the size limit: keep its head with the reason, answer AR (with ERR when its MSH can be read). */
  oversize(head: Buffer, size: number, peer: string): MllpReply;
}

export function adtFeed(cfg: Hl7SourceConfig, deps: AdtFeedDeps): AdtFeed {
  const now = deps.now ?? (() => new Date());
  /** `charset`: what the message's bytes were read as, for its \X..\ escapes. */
  const opts = (charset: string) => ({ timeZone: deps.timeZone, nameOrder: deps.nameOrder, charset, mrn: cfg.mrn });
  const wardOf = (l: AdtLocation) => {
    const poc = l.pointOfCare;
    if (!poc) return null;
    return cfg.wards[poc] ?? (deps.wardIds().includes(poc) ? poc : null);
  };
  const ack = (text: string | null, code: 'AA' | 'AE' | 'AR', problem?: AckProblem, note?: string) =>
    buildAck({ header: text === null ? null : receivedHeader(text), code, problem, note, timeZone: deps.timeZone, now: now() });

  const quarantine = (raw: Buffer, peer: string, code: 'AE' | 'AR' | 'none', reason: string) => {
    const at = nowIso(now());
    const nonce = crypto.randomBytes(8).toString('hex');
    deps.db
      .prepare('INSERT INTO hl7_quarantine (source_id, received_at, peer, ack_code, reason, raw) VALUES (?, ?, ?, ?, ?, ?)')
      .run(cfg.id, `${at}#${nonce}`, peer, code, reason, deps.blobs.sealValue(`hl7q:${cfg.id}:${at}#${nonce}`, raw));
    deps.log.warn({ room: 'hl7', source: cfg.id, ack: code, reason }, 'HL7 message quarantined');
  };
  const refuse = (raw: Buffer, text: string | null, peer: string, code: 'AE' | 'AR', problem: AckProblem): MllpReply => {
    quarantine(raw, peer, code, problem.text);
    return { ack: ack(text, code, problem) };
  };

  /** One stored message's change to the census; every record it touches is written in the caller's transaction. */
  const apply = (ev: AdtEvent): ApplyOutcome => {
    const read = (mrn: string) => readAdtRecord(deps.db, deps.blobs, cfg.id, mrn);
    const write = (r: Parameters<typeof writeAdtRecord>[3]) => writeAdtRecord(deps.db, deps.blobs, cfg.id, r, now());
    if (ev.type === 'A40') {
      const retired = read(ev.mergedMrn!);
      write(mergeAdtRecords(read(ev.mrn), retired, ev, wardOf));
      write(retiredRecord(retired, ev));
      // The retired MRN's stored history now belongs to the surviving patient.
      deps.db.prepare('UPDATE hl7_messages SET mrn = ? WHERE source_id = ? AND mrn = ?').run(ev.mrn, cfg.id, ev.mergedMrn);
      return 'applied';
    }
    const parts = [ev, ...(ev.swapWith ? [ev.swapWith] : [])];
    const results = parts.map((p) => applyAdtEvent(read(p.mrn), ev, p, wardOf));
    // A swap moves both patients or neither.
    const outcome = results.find((r) => r.outcome !== 'applied')?.outcome ?? 'applied';
    if (outcome === 'applied') for (const r of results) if (r.next) write(r.next);
    return outcome;
  };

  const applyPending = (): number => {
    const pending = deps.db.prepare(`SELECT id FROM hl7_messages WHERE source_id = ? AND status = 'stored' ORDER BY id`).pluck().all(cfg.id) as number[];
    let applied = 0;
    for (const id of pending) {
      deps.db.transaction(() => {
        // The guard: another process (serve beside `run`) may have applied it since the list was read.
        const m = deps.db.prepare(`SELECT sender, control_id AS controlId, raw FROM hl7_messages WHERE id = ? AND status = 'stored'`).get(id) as { sender: string; controlId: string; raw: Buffer } | undefined;
        if (!m) return;
        const raw = deps.blobs.openValue(`hl7:${cfg.id}:${m.sender}:${m.controlId}`, m.raw).toString('utf8');
        let outcome: ApplyOutcome | 'refused';
        let note: string | null = null;
        let ev: AdtEvent | null = null;
        try {
          // Stored as text: its own MSH-18 (or the source's default) still says what its escapes' bytes are.
          ev = parseAdt(raw, opts(declaredCharset(Buffer.from(raw.slice(0, 4096), 'utf8')) ?? cfg.charset));
          outcome = apply(ev);
        } catch (err) {
          // Stored under another config (time zone, MRN rule): kept with the reason, never retried forever.
          if (!(err instanceof AdtError)) throw err;
          [outcome, note] = ['refused', err.message];
        }
        deps.db.prepare('UPDATE hl7_messages SET status = ?, applied_at = ?, note = ? WHERE id = ?').run(outcome, nowIso(now()), note, id);
        applied++;
        if (outcome !== 'applied') deps.log.info({ room: 'hl7', source: cfg.id, message: id, event: ev?.type, outcome, note }, 'ADT event not applied');
      }).immediate();
    }
    return applied;
  };

  /** Apply what is pending; a failure (a damaged blob) must not stop the feed: the messages stay stored and are retried. */
  const applyPendingOrLog = () => {
    try {
      applyPending();
    } catch (err) {
      deps.log.error({ room: 'hl7', source: cfg.id, err: errorFields(err) }, 'applying ADT events failed; they stay stored and are retried');
    }
  };

  return {
    applyPending,
    quarantine,
    oversize(head, size, peer) {
      const text = head.toString('latin1');
      return refuse(head, text, peer, 'AR', { code: 207, location: { segment: 'MSH' }, text: `message of ${size} bytes is over this listener's limit of ${cfg.maxMessageBytes} bytes (maxMessageBytes); it was not read` });
    },
    async receive(bytes, peer) {
      const decoded = decodeMessage(bytes, cfg.charset);
      if ('problem' in decoded) {
        const text = bytes.toString('latin1');
        return refuse(bytes, text, peer, decoded.code === 103 ? 'AR' : 'AE', { code: decoded.code, location: { segment: 'MSH', field: 18 }, text: decoded.problem });
      }
      const text = decoded.text;
      let header;
      try {
        header = readHeader(text);
      } catch (err) {
        return refuse(bytes, text, peer, 'AR', (err as AdtError).problem);
      }
      if (cfg.facilities.length > 0 && !cfg.facilities.includes(header.receivingFacility)) {
        return refuse(bytes, text, peer, 'AR', { code: 103, location: { segment: 'MSH', field: 6 }, text: `receiving facility ${header.receivingFacility.slice(0, 40) || '(none)'} is not one this box accepts` });
      }
      let ev: AdtEvent;
      try {
        ev = parseAdt(text, opts(decoded.charset), header);
      } catch (err) {
        if (!(err instanceof AdtError)) throw err;
        return refuse(bytes, text, peer, err.ackCode, err.problem);
      }
      const verdict = deps.db.transaction((): 'duplicate' | AckProblem | null => {
        const dup = deps.db.prepare('SELECT id FROM hl7_messages WHERE source_id = ? AND sender = ? AND control_id = ?').get(cfg.id, ev.sender, ev.controlId);
        if (dup) return 'duplicate';
        // The rules read the census as it is once every earlier message is applied (or, if one cannot be, as it is).
        applyPendingOrLog();
        const read = (mrn: string) => readAdtRecord(deps.db, deps.blobs, cfg.id, mrn);
        const why = refusal(ev, { first: read(ev.mrn), second: ev.swapWith ? read(ev.swapWith.mrn) : null }, { ourWard: (l) => wardOf(l) !== null, admitWithoutBed: cfg.admitWithoutBed });
        if (why) return why;
        deps.db
          .prepare('INSERT INTO hl7_messages (source_id, control_id, sender, event_type, event_time, received_at, mrn, raw, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(cfg.id, ev.controlId, ev.sender, ev.type, ev.eventTime, nowIso(now()), ev.mrn, deps.blobs.sealValue(`hl7:${cfg.id}:${ev.sender}:${ev.controlId}`, Buffer.from(text, 'utf8')), 'stored');
        return null;
      }).immediate();
      if (verdict === 'duplicate') return { ack: ack(text, 'AA', undefined, 'duplicate: already received') };
      if (verdict) return refuse(bytes, text, peer, 'AE', verdict);
      faultPoint('hl7-after-store');
      return {
        ack: ack(text, 'AA'),
        afterAck: () => {
          faultPoint('hl7-after-ack');
          applyPendingOrLog();
        },
      };
    },
  };
}
