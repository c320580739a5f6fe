import { parseArgs } from 'node:util';
import { serve } from './serve.js';
import { UsageError } from './usage.js';

/** `serve [--host H] [--port N]`: run the agent until it is told to stop (answers -1: main leaves the process running). */
export async function serveCommand(configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { host: { type: 'string' }, port: { type: 'string' } }, strict: true });
  const port = values.port !== undefined ? Number(values.port) : undefined;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new UsageError('--port must be a number from 0 to 65535');
  return await serve({ configDir, dataDir, host: values.host, port });
}
