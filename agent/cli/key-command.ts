import { silentLogger } from '../log/logger.js';
import { openAgent } from './boot.js';

/**
 * `paperback key rotate`: re-seal every stored file under the current data
 * key. Each file is rewritten atomically (temporary file, fsync, rename), and
 * files not yet done still open with encryption.previousKeyFiles, so the
 * agent keeps serving throughout and an interrupted rotation just runs again.
 */
export async function keyCommand(configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  if (args[0] !== 'rotate' || args.length > 1) {
    process.stderr.write('usage: paperback key rotate   (after pointing encryption.keyFile at the new key and listing the old one in encryption.previousKeyFiles)\n');
    return 2;
  }
  const agent = await openAgent({ configDir, dataDir, log: silentLogger(), withSources: false });
  try {
    let rewritten = 0;
    let kept = 0;
    const known = agent.db.prepare('SELECT sha256 FROM blobs').pluck().all() as string[];
    for (const sha of known) {
      if (!agent.blobs.has(sha)) continue;
      if (agent.blobs.reseal(sha)) rewritten++;
      else kept++;
    }
    process.stdout.write(`re-sealed ${rewritten} file(s) under the current key; ${kept} already were. You can now remove encryption.previousKeyFiles and destroy the old key.\n`);
    return 0;
  } finally {
    await agent.close();
  }
}
