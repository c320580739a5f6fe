import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { frameReader } from './framing.js';
import { errorFields } from '../../log/errors.js';

/**
 * MLLP (HL7 v2's framing over TCP, optionally TLS): <VT> message <FS><CR>.
 * Written here rather than taken from @medplum/hl7 because the listener must
 * refuse unknown senders at connect, speak TLS, and hold each ACK until the
 * message is on disk; the framing rules are in framing.ts. Messages on one
 * connection are handled strictly in order.
 */
const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

export interface MllpReply {
  ack: string;
  /** Runs once the ACK has been handed to the kernel. */
  afterAck?: () => void;
}

export interface MllpServer {
  port: number;
  stats: MllpStats;
  close(): Promise<void>;
}

export interface MllpOptions {
  host: string;
  port: number;
  tls?: { certFile: string; keyFile: string; caFile?: string };
  configDir: string;
  /** Addresses (or IPv4/IPv6 subnets "10.0.0.0/24") allowed to connect. */
  allowFrom: string[];
  onMessage: (raw: Buffer, peer: string) => Promise<MllpReply>;
  /** A frame over maxMessageBytes: its first bytes, to answer (AR) and quarantine. */
  onOversize: (head: Buffer, size: number, peer: string) => MllpReply;
  /** A partial frame dropped because a new frame started inside it: kept, since no ACK will ever cover it. */
  onDiscarded: (partial: Buffer, peer: string) => void;
  maxMessageBytes: number;
  unframedTimeoutMs: number;
  log: Logger;
}

/** Framing faults since start, for /metrics and the closing of bad peers. */
export interface MllpStats {
  discardedPartial: number;
  oversize: number;
  unframedClosed: number;
}

export const frame = (text: string): Buffer => Buffer.concat([Buffer.from([VT]), Buffer.from(text, 'utf8'), Buffer.from([FS, CR])]);

export function allowList(entries: string[]): (ip: string) => boolean {
  const list = new net.BlockList();
  for (const e of entries) {
    const [addr, bits] = e.split('/');
    const type = net.isIPv6(addr!) ? 'ipv6' : 'ipv4';
    if (bits) list.addSubnet(addr!, Number(bits), type);
    else list.addAddress(addr!, type);
  }
  return (ip) => {
    const plain = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
    return list.check(plain, net.isIPv6(plain) ? 'ipv6' : 'ipv4');
  };
}

export function startMllpServer(o: MllpOptions): Promise<MllpServer> {
  const allowed = allowList(o.allowFrom);
  const stats: MllpStats = { discardedPartial: 0, oversize: 0, unframedClosed: 0 };
  const open = new Set<net.Socket>();
  const onConnection = (socket: net.Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    const peer = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (!allowed(peer)) {
      o.log.warn({ room: 'hl7', peer }, 'HL7 connection refused: sender not in allowFrom');
      socket.destroy();
      return;
    }
    const reader = frameReader(o.maxMessageBytes);
    let chain: Promise<void> = Promise.resolve();
    let unframedTimer: NodeJS.Timeout | null = null;
    const reply = (make: () => Promise<MllpReply> | MllpReply) => {
      chain = chain
        .then(async () => {
          const r = await make();
          if (socket.destroyed) return;
          socket.write(frame(r.ack), () => r.afterAck?.());
        })
        .catch((err: unknown) => {
          o.log.error({ room: 'hl7', err: errorFields(err) }, 'HL7 message handling failed; no ACK sent, the sender will retry');
          socket.destroy();
        });
    };
    socket.on('data', (chunk: Buffer) => {
      for (const ev of reader.push(chunk)) {
        if (ev.kind === 'message') reply(() => o.onMessage(ev.bytes, peer));
        else if (ev.kind === 'oversize') {
          stats.oversize++;
          o.log.warn({ room: 'hl7', peer, bytes: ev.size, limit: o.maxMessageBytes }, 'HL7 frame over the size limit: answered AR and quarantined');
          reply(() => o.onOversize(ev.head, ev.size, peer));
        } else if (ev.kind === 'discarded-partial') {
          stats.discardedPartial++;
          o.log.warn({ room: 'hl7', peer, bytes: ev.size }, 'HL7 frame start inside an unfinished frame: the partial frame was discarded');
          o.onDiscarded(ev.bytes, peer);
        } else o.log.warn({ room: 'hl7', peer, bytes: ev.size }, 'bytes outside an MLLP frame');
      }
      if (reader.unframed && !unframedTimer) {
        unframedTimer = setTimeout(() => {
          if (!reader.unframed) return void (unframedTimer = null);
          stats.unframedClosed++;
          o.log.warn({ room: 'hl7', peer }, 'peer sent bytes outside MLLP frames and no frame followed: connection closed');
          socket.destroy();
        }, o.unframedTimeoutMs);
      } else if (!reader.unframed && unframedTimer) {
        clearTimeout(unframedTimer);
        unframedTimer = null;
      }
    });
    socket.once('close', () => unframedTimer && clearTimeout(unframedTimer));
    socket.on('error', () => socket.destroy());
  };
  const server = o.tls
    ? tls.createServer(
        {
          cert: fs.readFileSync(path.resolve(o.configDir, o.tls.certFile)),
          key: fs.readFileSync(path.resolve(o.configDir, o.tls.keyFile)),
          ...(o.tls.caFile ? { ca: fs.readFileSync(path.resolve(o.configDir, o.tls.caFile)), requestCert: true, rejectUnauthorized: true } : {}),
          minVersion: 'TLSv1.2',
        },
        onConnection,
      )
    : net.createServer(onConnection);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        stats,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            // Connections the interface engine keeps open would hold close() forever.
            for (const s of open) s.destroy();
          }),
      });
    });
  });
}
