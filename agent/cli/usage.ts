/** What `paperback` says it can do, and the exit codes scripts can rely on. */
import { PaperbackError } from '../log/errors.js';

export const USAGE = `Usage: paperback [--config DIR] [--data DIR] <command> [options]

Commands:
  serve [--host H] [--port N]   run the agent: scheduler, web page, printing
  run JOB [--json]              take a snapshot of JOB now; exit 0 on success
  status [--json]               every job's last run, current snapshot, data age, next run
  verify [--json]               check the store (rows against files, hashes)
  config check                  validate paperback.yaml, snapshots/ and printers/
  docs JOB                      list the current snapshot's documents (JOB/DOCUMENT)
  export JOB --out DIR          write the current snapshot's documents as PDF files
  printers [--json]             list printers with their live state
  downtime start --reason R | end | status | export [--since D] [--out FILE]
                                declare or end a downtime by hand; show the current one;
                                every downtime as CSV (for the insurance office)
  census status JOB | census accept JOB [--snapshot N]
                                see a census the drop guard held, and publish it once checked
  print JOB/DOC --printer ID [--copies N] [--no-wait]
                                print a document and wait until the printer reports it done
  user add|passwd|disable|enable|list|break-glass-code
                                local accounts for the ward page (see \`paperback user\`)
  audit export [--since D] [--until D] [--out FILE] | audit verify
                                the audit log as CSV; check its hash chain
  demo outage start|stop|status take the embedded demo HIS down and up (demo only)
  key rotate                    re-seal every stored file under the current data key
  numbers status|import FILE|report|map FILE
                                downtime numbers: how many are left, add a range, who got
                                which, and the HIS record each became
  entries status|fileback [--job ID] [--patient KEY]
                                what nurses recorded during downtimes; file it back to the HIS

Global options:
  --config DIR   folder holding paperback.yaml, snapshots/, printers/, templates/
                 (default: $PAPERBACK_CONFIG or the current folder)
  --data DIR     data folder (default: $PAPERBACK_DATA or dataDir in paperback.yaml)
`;

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, config: 3, busy: 4, notFound: 5 } as const;

/** A command line that does not say what to do: answered with the usage text and exit 2. */
export class UsageError extends PaperbackError {
  constructor(message: string) {
    super('usage', message);
  }
}

export const out = (line: string): void => void process.stdout.write(`${line}\n`);
