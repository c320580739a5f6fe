import crypto from 'node:crypto';
import type { Logger } from 'pino';
import { Hl7Message } from '@medplum/core';
import type { Hl7SourceConfig } from '../../config/schema.js';
import { faultPoint } from '../../schedule/faults.js';
import type { BlobStore } from '../../store/blobs.js';
import type { Db } from '../../store/db.js';
import { nowIso } from '../../store/db.js';
import { AdtError, bareAck, parseAdt, readHeader, tzOffsetOf, type AdtLocation } from './adt.js';
import { applyAdtEvent, readAdtRecord, writeAdtRecord } from './adt-census.js';
import type { MllpReply } from './mllp.js';
import type { NameOrder } from '../../model/names.js';

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
  /** Store, acknowledge, then apply: the ACK goes out only after the message is on disk. */
  receive(raw: string, peer: string): Promise<MllpReply>;
  /** Apply every stored message not yet applied, oldest first (also after a restart). */
  applyPending(): number;
}

function ackWith(message: Hl7Message, code: 'AA' | 'AE' | 'AR', text?: string): string {
  const ack = message.buildAck({ ackCode: code });
  if (text) ack.getSegment('MSA')?.setField(3, text.replace(/[|^~\\&\r\n]/g, ' ').slice(0, 80));
  return ack.toString();
}

export function adtFeed(cfg: Hl7SourceConfig, deps: AdtFeedDeps): AdtFeed {
  const now = deps.now ?? (() => new Date());
  const opts = () => ({ tzOffset: tzOffsetOf(deps.timeZone, now()), nameOrder: deps.nameOrder });
  const wardOf = (l: AdtLocation) => {
    const poc = l.pointOfCare;
    if (!poc) return null;
    return cfg.wards[poc] ?? (deps.wardIds().includes(poc) ? poc : null);
  };

  const quarantine = (raw: string, peer: string, code: 'AE' | 'AR', reason: string) => {
    const at = nowIso(now());
    const nonce = crypto.randomBytes(8).toString('hex');
    deps.db
      .prepare('INSERT INTO hl7_quarantine (source_id, received_at, peer, ack_code, reason, raw) VALUES (?, ?, ?, ?, ?, ?)')
      .run(cfg.id, `${at}#${nonce}`, peer, code, reason, deps.blobs.sealValue(`hl7q:${cfg.id}:${at}#${nonce}`, Buffer.from(raw, 'utf8')));
    deps.log.warn({ room: 'hl7', source: cfg.id, ack: code, reason }, 'HL7 message quarantined');
  };

  const applyPending = (): number => {
    const pending = deps.db.prepare(`SELECT id, sender, control_id AS controlId, raw FROM hl7_messages WHERE source_id = ? AND status = 'stored' ORDER BY id`).all(cfg.id) as { id: number; sender: string; controlId: string; raw: Buffer }[];
    for (const m of pending) {
      deps.db.transaction(() => {
        const raw = deps.blobs.openValue(`hl7:${cfg.id}:${m.sender}:${m.controlId}`, m.raw).toString('utf8');
        const ev = parseAdt(raw, opts());
        const prev = readAdtRecord(deps.db, deps.blobs, cfg.id, ev.mrn);
        const { next, outcome } = applyAdtEvent(prev, ev, wardOf);
        if (next && outcome === 'applied') writeAdtRecord(deps.db, deps.blobs, cfg.id, next, now());
        deps.db.prepare('UPDATE hl7_messages SET status = ?, applied_at = ? WHERE id = ?').run(outcome, nowIso(now()), m.id);
        if (outcome !== 'applied') deps.log.info({ room: 'hl7', source: cfg.id, message: m.id, event: ev.type, outcome }, 'ADT event not applied');
      }).immediate();
    }
    return pending.length;
  };

  return {
    applyPending,
    async receive(raw, peer) {
      let header;
      try {
        header = readHeader(raw);
      } catch (err) {
        const e = err as AdtError;
        quarantine(raw, peer, 'AR', e.message);
        return { ack: bareAck('AR', e.message) };
      }
      if (cfg.facilities.length > 0 && !cfg.facilities.includes(header.receivingFacility)) {
        const reason = `receiving facility ${header.receivingFacility || '(none)'} is not one this box accepts`;
        quarantine(raw, peer, 'AR', reason);
        return { ack: ackWith(header.message, 'AR', reason) };
      }
      let ev;
      try {
        ev = parseAdt(raw, opts(), header);
      } catch (err) {
        if (!(err instanceof AdtError)) throw err;
        quarantine(raw, peer, err.ackCode, err.message);
        return { ack: ackWith(header.message, err.ackCode, err.message) };
      }
      const dup = deps.db.prepare('SELECT id FROM hl7_messages WHERE source_id = ? AND sender = ? AND control_id = ?').get(cfg.id, ev.sender, ev.controlId);
      if (dup) return { ack: ackWith(header.message, 'AA', 'duplicate: already received') };
      deps.db
        .prepare('INSERT INTO hl7_messages (source_id, control_id, sender, event_type, event_time, received_at, mrn, raw, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(cfg.id, ev.controlId, ev.sender, ev.type, ev.eventTime, nowIso(now()), ev.mrn, deps.blobs.sealValue(`hl7:${cfg.id}:${ev.sender}:${ev.controlId}`, Buffer.from(raw, 'utf8')), 'stored');
      faultPoint('hl7-after-store');
      return {
        ack: ackWith(header.message, 'AA'),
        afterAck: () => {
          faultPoint('hl7-after-ack');
          try {
            applyPending();
          } catch (err) {
            deps.log.error({ room: 'hl7', source: cfg.id, err: { message: (err as Error).message.slice(0, 200) } }, 'applying ADT events failed; they stay stored and are retried');
          }
        },
      };
    },
  };
}
