import net from 'node:net';
import { PaperbackError } from '../log/errors.js';
import { frameReader } from '../sources/hl7/framing.js';

/** The interface engine's answer to one message: MSA-1 and MSA-3. */
export interface MllpAck {
  code: string;
  text: string;
}

/**
 * Send one HL7 message over MLLP and wait for the acknowledgement that
 * names it (MSA-2 equal to its MSH-10). An answer naming another message is
 * not this one's: it is skipped, and no answer in time is an error (the
 * entry stays to be sent again, with the same MSH-10).
 */
export function sendMllp(to: { host: string; port: number; timeoutMs: number }, message: string, controlId: string, signal: AbortSignal): Promise<MllpAck> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: to.host, port: to.port });
    const frames = frameReader(1_000_000);
    const fail = (why: string) => {
      socket.destroy();
      reject(new PaperbackError('hl7-no-ack', why, { retryable: true }));
    };
    const timer = setTimeout(() => fail(`no acknowledgement for ${controlId} from ${to.host}:${to.port} within ${to.timeoutMs} ms`), to.timeoutMs);
    const onAbort = () => fail('file-back was stopped');
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('close', () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => fail(`cannot reach the interface engine at ${to.host}:${to.port}: ${err.code ?? err.message}`));
    socket.on('connect', () => socket.write(Buffer.concat([Buffer.from([0x0b]), Buffer.from(message.replace(/\r?\n/g, '\r'), 'utf8'), Buffer.from([0x1c, 0x0d])])));
    socket.on('data', (chunk) => {
      for (const ev of frames.push(chunk)) {
        if (ev.kind !== 'message') continue;
        const msa = ev.bytes.toString('utf8').split(/\r\n?|\n/).find((s) => s.startsWith('MSA'));
        if (!msa) continue;
        const sep = msa[3] ?? '|';
        const f = msa.split(sep);
        if (f[2] !== controlId) continue;
        clearTimeout(timer);
        socket.end();
        resolve({ code: f[1] ?? '', text: f[3] ?? '' });
        return;
      }
    });
  });
}
