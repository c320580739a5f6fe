import os from 'node:os';
import { parseArgs } from 'node:util';
import { appendAudit } from '../audit/log.js';
import { setBreakGlassCode } from '../auth/break-glass.js';
import { PasswordPolicyError } from '../auth/passwords.js';
import { addUser, listUsers, setDisabled, setPassword, UserError, type Role } from '../auth/users.js';
import { requestUnlock } from '../auth/unlock.js';
import { silentLogger } from '../log/logger.js';
import { openAgent } from './boot.js';
import { newSecret } from './secret-input.js';

export const USER_USAGE = `usage:
  paperback user add NAME --role nurse|admin [--display "Full Name"] [--password-stdin] [--directory-only]
  paperback user passwd NAME [--password-stdin]
  paperback user disable NAME | enable NAME
  paperback user unlock NAME                  end a sign-in lockout (too many wrong passwords) now
  paperback user list
  paperback user break-glass-code [--password-stdin]   set the ward code for emergency access during downtime`;

const actor = () => `cli:${os.userInfo().username}`;

/** Accounts on this box. Every change is written to the audit log under the operating-system user. */
export async function userCommand(configDir: string, dataDir: string | undefined, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { role: { type: 'string' }, display: { type: 'string' }, 'password-stdin': { type: 'boolean' }, 'directory-only': { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  const name = positionals[0];
  const agent = await openAgent({ configDir, dataDir, log: silentLogger(), withSources: false });
  const db = agent.db;
  try {
    switch (sub) {
      case 'add': {
        if (!name || (values.role !== 'nurse' && values.role !== 'admin')) throw new UserError(USER_USAGE);
        const password = values['directory-only'] ? null : await newSecret({ stdin: !!values['password-stdin'], what: 'password' });
        const u = await addUser(db, { username: name, displayName: values.display ?? name, role: values.role as Role, password });
        appendAudit(db, { actor: actor(), action: 'user-added', subject: u.username, detail: { role: u.role, directoryOnly: password === null } });
        process.stdout.write(`added ${u.role} "${u.username}"\n`);
        return 0;
      }
      case 'passwd': {
        if (!name) throw new UserError(USER_USAGE);
        const password = await newSecret({ stdin: !!values['password-stdin'], what: 'password' });
        await setPassword(db, name, password);
        appendAudit(db, { actor: actor(), action: 'user-password', subject: name });
        process.stdout.write(`password changed for "${name}"; their open sessions were ended\n`);
        return 0;
      }
      case 'disable':
      case 'enable': {
        if (!name) throw new UserError(USER_USAGE);
        setDisabled(db, name, sub === 'disable');
        appendAudit(db, { actor: actor(), action: sub === 'disable' ? 'user-disabled' : 'user-enabled', subject: name });
        process.stdout.write(`${sub}d "${name}"${sub === 'disable' ? '; their open sessions were ended' : ''}\n`);
        return 0;
      }
      case 'unlock': {
        if (!name) throw new UserError(USER_USAGE);
        requestUnlock(db, name);
        appendAudit(db, { actor: actor(), action: 'user-unlocked', subject: name });
        process.stdout.write(`"${name}" can sign in again now (the running box reads this at the next attempt)\n`);
        return 0;
      }
      case 'list': {
        for (const u of listUsers(db)) process.stdout.write(`${u.username.padEnd(20)} ${u.role.padEnd(6)} ${u.disabled ? 'DISABLED' : 'active  '} ${u.passwordHash ? 'local password' : 'directory only'}  ${u.displayName}\n`);
        return 0;
      }
      case 'break-glass-code': {
        const code = await newSecret({ stdin: !!values['password-stdin'], what: 'ward code' });
        await setBreakGlassCode(db, code);
        appendAudit(db, { actor: actor(), action: 'break-glass-code-set', subject: null });
        process.stdout.write('break-glass ward code set; it opens the ward page only during a downtime\n');
        return 0;
      }
      default:
        throw new UserError(USER_USAGE);
    }
  } catch (err) {
    if (err instanceof UserError || err instanceof PasswordPolicyError) {
      process.stderr.write(`${err.message}\n`);
      return err.message === USER_USAGE ? 2 : 1;
    }
    throw err;
  } finally {
    await agent.close();
  }
}
