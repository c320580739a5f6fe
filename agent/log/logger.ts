import pino, { type Logger } from 'pino';
import { errorFields } from './errors.js';

export type { Logger };

/**
 * Field names that could carry patient data. Code never logs them on purpose;
 * redaction is the second line of defence if a future change does.
 */
const PHI_KEYS = ['patientName', 'mrn', 'birthDate', 'dob', 'patient', 'diagnosis', 'address', 'phone'];
const PHI_PATHS = PHI_KEYS.flatMap((k) => [k, `*.${k}`]);

export function createLogger(opts: { level?: string; destination?: pino.DestinationStream; name?: string } = {}): Logger {
  return pino(
    {
      name: opts.name ?? 'paperback',
      level: opts.level ?? process.env.PAPERBACK_LOG_LEVEL ?? 'info',
      redact: { paths: PHI_PATHS, censor: '[redacted]' },
      // One shape for every error (name, code, retryable, a bounded message): an Error passed as it is
      // is cut down to that too, so its stack and extra fields (a request, a row) never reach the journal.
      serializers: { err: (e: unknown) => (e instanceof Error || typeof e !== 'object' || e === null ? errorFields(e) : e) },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything (library use, quiet CLI commands). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
