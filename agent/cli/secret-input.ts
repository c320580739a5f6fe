import readline from 'node:readline';

/** The first line of standard input (for scripts: `echo "$PW" | paperback user add … --password-stdin`). */
export async function readFirstLine(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const rl = readline.createInterface({ input: stream, terminal: false });
  try {
    for await (const line of rl) return line.replace(/\r$/, '');
    return '';
  } finally {
    rl.close();
  }
}

/** Ask on the terminal without echoing what is typed. */
export function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    if (!stdin.isTTY) return reject(new Error('no terminal to ask for a password on; use --password-stdin'));
    process.stderr.write(question);
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const onData = (ch: string) => {
      for (const c of ch) {
        if (c === '\r' || c === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          return resolve(value);
        }
        if (c === '\u0003') {
          stdin.setRawMode(false);
          return reject(new Error('cancelled'));
        }
        if (c === '\u007f') value = value.slice(0, -1);
        else value += c;
      }
    };
    stdin.on('data', onData);
  });
}

export async function newSecret(opts: { stdin: boolean; what: string }): Promise<string> {
  if (opts.stdin) return readFirstLine();
  const a = await promptHidden(`New ${opts.what}: `);
  const b = await promptHidden(`Repeat the ${opts.what}: `);
  if (a !== b) throw new Error(`the two ${opts.what}s differ; nothing was changed`);
  return a;
}
