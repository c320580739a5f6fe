import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../agent/demo/ipp-printer.js';
import { tmpDir } from './fixtures.js';

/** A real OpenLDAP server (Debian slapd) on loopback, with its own config and database in a temp folder. */
export const HAVE_SLAPD = fs.existsSync('/usr/sbin/slapd') && spawnSync('sh', ['-c', 'command -v ldapadd']).status === 0;

export const LDAP_BASE = 'dc=hospital,dc=vn';

export interface Slapd {
  url: string;
  stop(): Promise<void>;
}

const people = [
  { uid: 'mai.tran', cn: 'Trần Thị Mai', password: 'ward nurse password', group: 'ward3a-nurses' },
  { uid: 'khoa.it', cn: 'Lê Minh Khoa', password: 'it admin password', group: 'paperback-admins' },
  { uid: 'outsider', cn: 'Someone Else', password: 'outsider password', group: null },
];
export const LDAP_USERS = Object.fromEntries(people.map((p) => [p.uid, p]));

export async function startSlapd(): Promise<Slapd> {
  const dir = tmpDir('pb-slapd-');
  fs.mkdirSync(path.join(dir, 'db'));
  const port = await freePort();
  fs.writeFileSync(
    path.join(dir, 'slapd.conf'),
    `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile ${dir}/slapd.pid
database mdb
suffix "${LDAP_BASE}"
rootdn "cn=admin,${LDAP_BASE}"
rootpw secret-admin
directory ${dir}/db
access to attrs=userPassword by self read by anonymous auth by * none
access to * by users read by * none
`,
  );
  const url = `ldap://127.0.0.1:${port}`;
  // -d 0: stay in the foreground so the test owns the process.
  const child: ChildProcess = spawn('/usr/sbin/slapd', ['-f', path.join(dir, 'slapd.conf'), '-h', `${url}/`, '-d', '0'], { stdio: 'ignore' });
  const deadline = Date.now() + 15_000;
  while (spawnSync('ldapsearch', ['-x', '-H', url, '-b', '', '-s', 'base', '-LLL', 'namingContexts']).status !== 0) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('slapd did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const groups = [...new Set(people.map((p) => p.group).filter(Boolean))] as string[];
  const ldif = [
    `dn: ${LDAP_BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Hospital\ndc: hospital`,
    `dn: ou=people,${LDAP_BASE}\nobjectClass: organizationalUnit\nou: people`,
    `dn: ou=groups,${LDAP_BASE}\nobjectClass: organizationalUnit\nou: groups`,
    ...people.map((p) => `dn: uid=${p.uid},ou=people,${LDAP_BASE}\nobjectClass: inetOrgPerson\nuid: ${p.uid}\ncn: ${p.cn}\nsn: ${p.cn.split(' ')[0]}\nuserPassword: ${p.password}`),
    ...groups.map((g) => `dn: cn=${g},ou=groups,${LDAP_BASE}\nobjectClass: groupOfNames\ncn: ${g}\n${people.filter((p) => p.group === g).map((p) => `member: uid=${p.uid},ou=people,${LDAP_BASE}`).join('\n')}`),
  ].join('\n\n');
  const add = spawnSync('ldapadd', ['-x', '-H', url, '-D', `cn=admin,${LDAP_BASE}`, '-w', 'secret-admin'], { input: `${ldif}\n`, encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`ldapadd failed: ${add.stderr}`);
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
