/**
 * The one base of every error Paperback throws on purpose. Each names a
 * stable `code` (what went wrong, for logs, metrics and the CLI's exit code)
 * and whether trying again later may help (`retryable`: a printer busy, a
 * server down), so a caller decides to retry, report or stop by reading two
 * fields instead of testing a dozen classes.
 *
 * Messages are written for IT staff and carry no patient data; the context
 * a subclass keeps (a URL, a file, an HL7 field) is what makes them act on.
 */
export class PaperbackError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.name = new.target.name;
  }
}

/** What a log line says about an error: always this shape, so one query finds every failure of a kind. */
export interface ErrorFields {
  name: string;
  code?: string;
  retryable?: boolean;
  message: string;
}

/** The longest message a log line carries: a server's error page or a stack must not flood the journal. */
const MAX_MESSAGE = 300;

/**
 * The `err` field of a log line. Only the name, code and a bounded message:
 * never the object itself, whose extra properties (a request, a row) could
 * carry patient data past the logger's redaction.
 */
export function errorFields(err: unknown): ErrorFields {
  if (err instanceof PaperbackError) return { name: err.name, code: err.code, retryable: err.retryable, message: err.message.slice(0, MAX_MESSAGE) };
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return { name: err.name, ...(typeof code === 'string' ? { code } : {}), message: err.message.slice(0, MAX_MESSAGE) };
  }
  return { name: 'NonError', message: String(err).slice(0, MAX_MESSAGE) };
}
