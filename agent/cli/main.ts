#!/usr/bin/env node
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, formatProblem } from '../config/load.js';
import { JobBusyError, UnknownJobError } from '../schedule/run.js';
import { printCommand, printersCommand } from './print-commands.js';
import { downtimeCommand } from './downtime-command.js';
import { censusCommand } from './census-command.js';
import { userCommand } from './user-command.js';
import { auditCommand } from './audit-command.js';
import { demoCommand } from './demo-command.js';
import { keyCommand } from './key-command.js';
import { numbersCommand } from './numbers-command.js';
import { entriesCommand } from './entries-command.js';
import { configCommand, documentsCommand, runCommand, statusCommand, verifyCommand } from './snapshot-commands.js';
import { serveCommand } from './serve-command.js';
import { EXIT, USAGE, UsageError } from './usage.js';

export { EXIT };

type Command = (configDir: string, dataDir: string | undefined, args: string[]) => number | Promise<number>;

/** Every command, by the word that names it. `serve` answers -1: it keeps running. */
const COMMANDS: Record<string, Command> = {
  config: configCommand,
  serve: serveCommand,
  run: runCommand,
  status: statusCommand,
  verify: verifyCommand,
  docs: (c, d, a) => documentsCommand('docs', c, d, a),
  export: (c, d, a) => documentsCommand('export', c, d, a),
  downtime: downtimeCommand,
  census: censusCommand,
  printers: printersCommand,
  print: printCommand,
  user: userCommand,
  audit: auditCommand,
  demo: demoCommand,
  key: keyCommand,
  numbers: numbersCommand,
  entries: entriesCommand,
};

function splitGlobal(argv: string[]): { global: { config?: string; data?: string; help?: boolean }; rest: string[] } {
  const global: { config?: string; data?: string; help?: boolean } = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config' || a === '--data') {
      const v = argv[++i];
      if (!v) throw new UsageError(`${a} needs a folder`);
      global[a === '--config' ? 'config' : 'data'] = v;
    } else if (a.startsWith('--config=')) global.config = a.slice(9);
    else if (a.startsWith('--data=')) global.data = a.slice(7);
    else if (a === '--help' || a === '-h') global.help = true;
    else break;
  }
  return { global, rest: argv.slice(i) };
}

/** A command's failure in words on stderr, and the exit code that says what kind it was. */
function reportFailure(command: string, err: unknown): number {
  const say = (s: string) => process.stderr.write(s);
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    say(`${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (err instanceof ConfigError) {
    say(`configuration has ${err.problems.length} problem(s):\n${err.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`);
    return EXIT.config;
  }
  if (err instanceof JobBusyError || err instanceof UnknownJobError) {
    say(`${err.message}\n`);
    return err instanceof JobBusyError ? EXIT.busy : EXIT.notFound;
  }
  say(`paperback ${command}: ${(err as Error).message}\n`);
  return EXIT.failed;
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = splitGlobal(argv);
  } catch (err) {
    return reportFailure('', err);
  }
  const { global, rest } = parsed;
  const [command, ...args] = rest;
  if (global.help || !command || command === 'help') {
    process.stdout.write(USAGE);
    return command || global.help ? EXIT.ok : EXIT.usage;
  }
  const configDir = path.resolve(global.config ?? process.env.PAPERBACK_CONFIG ?? '.');
  const dataDir = global.data ? path.resolve(global.data) : undefined;
  try {
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command]! : null;
    if (!run) throw new UsageError(`unknown command "${command}"`);
    return await run(configDir, dataDir, args);
  } catch (err) {
    return reportFailure(command, err);
  }
}

const invokedDirectly = process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(new URL(import.meta.url).pathname);
if (invokedDirectly) {
  // `paperback docs JOB | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      // serve keeps running; everything else ends here.
      if (code !== -1) process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`paperback: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
