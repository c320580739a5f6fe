import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import type { Logger } from 'pino';

/**
 * MLLP (HL7 v2's framing over TCP, optionally TLS): <VT> message <FS><CR>.
 * Written here rather than taken from @medplum/hl7 because the listener must
 * refuse unknown senders at connect, speak TLS, and hold each ACK until the
 * message is on disk; the framing itself is a few lines. Messages on one
 * connection are handled strictly in order.
 */
const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;
const END = Buffer.from([FS, CR]);
const MAX_MESSAGE_BYTES = 1024 * 1024;

export interface MllpReply {
  ack: string;
  /** Runs once the ACK has been handed to the kernel. */
  afterAck?: () => void;
}

export interface MllpServer {
  port: number;
  close(): Promise<void>;
}

export interface MllpOptions {
  host: string;
  port: number;
  tls?: { certFile: string; keyFile: string; caFile?: string };
  configDir: string;
  /** Addresses (or IPv4/IPv6 subnets "10.0.0.0/24") allowed to connect. */
  allowFrom: string[];
  onMessage: (raw: string, peer: string) => Promise<MllpReply>;
  log: Logger;
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
    let buf = Buffer.alloc(0);
    let chain: Promise<void> = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const start = buf.indexOf(VT);
        if (start < 0) {
          buf = Buffer.alloc(0);
          break;
        }
        const end = buf.indexOf(END, start);
        if (end < 0) {
          if (buf.length - start > MAX_MESSAGE_BYTES) {
            o.log.warn({ room: 'hl7', peer }, 'HL7 message over 1 MB without an end marker; connection closed');
            socket.destroy();
          }
          buf = buf.subarray(start);
          break;
        }
        const raw = buf.subarray(start + 1, end).toString('utf8');
        buf = buf.subarray(end + 2);
        chain = chain.then(async () => {
          const reply = await o.onMessage(raw, peer);
          if (socket.destroyed) return;
          socket.write(frame(reply.ack), () => reply.afterAck?.());
        }).catch((err: unknown) => {
          o.log.error({ room: 'hl7', err: { message: (err as Error).message.slice(0, 200) } }, 'HL7 message handling failed; no ACK sent, the sender will retry');
          socket.destroy();
        });
      }
    });
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
