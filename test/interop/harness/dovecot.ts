// A private Dovecot (2.3, Debian's dovecot-core/-imapd/-lmtpd) on loopback: the mailbox server that reads
// the Maildir Mailgate delivered (IMAP) and receives Mailgate's LMTP deliveries. Everything (config,
// base_dir with its sockets and pid file, state_dir, log) lives in a temp dir; started as
// `dovecot -c CONF -F`, so no file under /etc/dovecot is read and the master stays our child.
//
// Users come from a passwd-file: name, {PLAIN} password (or a given {SCHEME}hash), and the Maildir
// Dovecot opens for them (`userdb_mail=maildir:DIR`), so a test points a user at the Maildir
// Mailgate wrote; or, with no Maildir given, the global `mail_location` a test puts in `extra`, as an
// administrator writes it (maildir:<data_dir>/mail/%d/%n). Each user's home is a private dir in the
// temp dir (Dovecot keeps nothing there that a test looks at, and the Maildir stays free of it).
//
// Running as root: Dovecot refuses mail access as uid 0 or gid 0 ("Mail access not allowed for
// root"; first_valid_uid/gid cannot lift it: imap and lmtp never get the allow-root flag), so under
// root mail processes run as nobody:nogroup (mail_uid/mail_gid; `mailOwner` names another, e.g. the
// user the MTA runs as), the internal processes as `dovecot` and the login processes as `dovenull`
// (the package's users). A Maildir written by root must then be
// handed over: adoptMaildir() chowns the tree (start does it for each user's existing Maildir; call it
// again after more root deliveries), and every parent directory must be traversable by others
// (adoptMaildir's searchableFrom adds o+x where a writer made them 0700).
// Not root: everything runs as the current user, with the login and anvil processes unchrooted (tried
// by hand as `nobody`; the interop suite itself runs as root).
import { access, chmod, chown, constants, lstat, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { makeTempDir } from './tmpdir.js';
import { freePorts } from './ports.js';
import { startDaemon, waitFor, type Daemon } from './process.js';
import { tcpListening } from './endpoint.js';

export const DOVECOT = '/usr/sbin/dovecot';

export interface DovecotUser {
  /** Login name and LMTP recipient, e.g. alice@localhost (Dovecot lower-cases it: %Lu). */
  name: string;
  /** A plain password, or a hash with its scheme prefix ({SHA512-CRYPT}$6$..., {BLF-CRYPT}...). */
  password: string;
  /**
   * Absolute path of the user's Maildir (cur/ new/ tmp/ are created if missing). Omitted: the user has no
   * userdb_mail, so a global `mail_location` in `extra` applies, as an administrator writes it.
   */
  maildir?: string;
}

export interface DovecotOptions {
  users: readonly DovecotUser[];
  /** Extra dovecot.conf text, appended last. */
  extra?: string;
  /** Passed to adoptMaildir at start for each user's Maildir under it (e.g. Mailgate's data_dir). */
  searchableFrom?: string;
  /**
   * Under root: the uid/gid the mail processes run as (mail_uid/mail_gid; default nobody:nogroup), e.g.
   * the MTA's own user, so that Dovecot opens the Maildirs it wrote as they are. Ignored when not root.
   */
  mailOwner?: { uid: number; gid: number };
  /**
   * The IMAP and LMTP ports, for a caller that needs more ports for its `extra` listeners (e.g. POP3): it
   * takes them all from one freePorts() call, so that none is handed out twice. Default: free ones.
   */
  ports?: { imap: number; lmtp: number };
}

export interface Dovecot {
  readonly host: '127.0.0.1';
  readonly imapPort: number;
  readonly lmtpPort: number;
  /** `inet:127.0.0.1:PORT`, the [delivery] lmtp spelling. */
  readonly lmtpSpec: string;
  readonly configFile: string;
  readonly logFile: string;
  /** uid/gid that Dovecot's mail processes (imap, lmtp deliveries) run as. */
  readonly mailOwner: { uid: number; gid: number };
  readonly daemon: Daemon;
  log(): Promise<string>;
  /**
   * Gives a Maildir tree written by someone else (root) to the mail owner, so Dovecot can read and
   * update it. `searchableFrom`: an ancestor (e.g. Mailgate's data_dir) from which every directory down
   * to the Maildir's parent gets o+x added, for a writer that makes them 0700; without it such a
   * parent is an error.
   */
  adoptMaildir(maildir: string, opts?: { searchableFrom?: string }): Promise<void>;
  stop(): Promise<void>;
}

/** Throws a clear error when the Dovecot binaries are missing. */
export async function requireDovecot(): Promise<void> {
  for (const bin of [DOVECOT, '/usr/lib/dovecot/imap', '/usr/lib/dovecot/lmtp']) {
    try {
      await access(bin, constants.X_OK);
    } catch {
      throw new Error(`${bin} is missing: install dovecot-core, dovecot-imapd and dovecot-lmtpd (scripts/install-test-peers.sh, as root)`);
    }
  }
}

/**
 * A password hash made by Dovecot itself (`doveadm pw`, no configuration read), with its {SCHEME}
 * prefix: e.g. SHA512-CRYPT, BLF-CRYPT, ARGON2ID, SSHA512 — what a Dovecot passwd-file holds, so
 * tests of `mailgate user import` can use real ones, and startDovecot takes them as passwords.
 */
export function dovecotHash(password: string, scheme: string): string {
  return execFileSync('/usr/bin/doveadm', ['-c', '/dev/null', 'pw', '-s', scheme, '-p', password], { encoding: 'utf8' }).trim();
}

/** uid and gid of `user`, or of `user` and `group` when given. */
function idsOf(user: string, group?: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const gid =
    group === undefined
      ? Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim())
      : Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);
  return { uid, gid };
}

function processUsers(mailOwner?: { uid: number; gid: number }): { mail: { uid: number; gid: number }; internal: string; internalGroup: string; login: string } {
  if (process.getuid?.() === 0) return { mail: mailOwner ?? idsOf('nobody', 'nogroup'), internal: 'dovecot', internalGroup: 'dovecot', login: 'dovenull' };
  const me = userInfo();
  const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
  return { mail: { uid: me.uid, gid: me.gid }, internal: me.username, internalGroup: group, login: me.username };
}

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  const st = await lstat(path);
  if (st.isSymbolicLink()) return;
  await chown(path, uid, gid);
  if (st.isDirectory()) for (const name of await readdir(path)) await chownTree(join(path, name), uid, gid);
}

/** Every parent of `dir` must let others search it (o+x): the mail processes are not root. */
async function checkTraversable(dir: string): Promise<void> {
  for (let d = dirname(dir); ; d = dirname(d)) {
    const st = await stat(d);
    if ((st.mode & 0o001) === 0) {
      throw new Error(`dovecot: ${d} is not searchable by others (mode ${(st.mode & 0o777).toString(8)}): Dovecot's mail processes cannot reach ${dir}`);
    }
    if (d === dirname(d)) return;
  }
}

function isUnder(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** Adds o+x to `from` and every directory below it down to the parent of `maildir`. */
async function makeSearchable(from: string, maildir: string): Promise<void> {
  if (!isUnder(from, maildir)) throw new Error(`dovecot: ${maildir} is not under ${from}`);
  const rel = relative(from, dirname(maildir));
  let dir = from;
  for (const part of ['', ...rel.split(sep).filter((p) => p !== '')]) {
    dir = join(dir, part);
    const st = await stat(dir);
    if ((st.mode & 0o001) === 0) await chmod(dir, (st.mode & 0o7777) | 0o001);
  }
}

function passwdLine(user: DovecotUser, home: string): string {
  for (const field of [user.name, user.password, user.maildir ?? '']) {
    if (/[:\n]/.test(field)) throw new Error(`dovecot: a passwd-file field may not contain ':' or a newline: ${JSON.stringify(field)}`);
  }
  const password = user.password.startsWith('{') ? user.password : `{PLAIN}${user.password}`;
  // user:password:uid:gid:gecos:home:shell:extra — uid/gid empty: mail_uid/mail_gid apply.
  return `${user.name}:${password}::::${home}::${user.maildir === undefined ? '' : `userdb_mail=maildir:${user.maildir}`}`;
}

function dovecotConf(root: string, imapPort: number, lmtpPort: number, users: ReturnType<typeof processUsers>, extra: string): string {
  const rootless = process.getuid?.() !== 0;
  return `# Private test instance (test/interop/harness/dovecot.ts); nothing from /etc/dovecot is read.
instance_name = mailgate-test-${imapPort}
base_dir = ${root}/run
state_dir = ${root}/state
log_path = ${root}/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = ${users.internal}
default_internal_group = ${users.internalGroup}
default_login_user = ${users.login}
mail_uid = ${users.mail.uid}
mail_gid = ${users.mail.gid}
first_valid_uid = ${Math.min(users.mail.uid, 500)}
first_valid_gid = ${Math.min(users.mail.gid, 1)}
passdb {
  driver = passwd-file
  args = ${root}/passwd
}
userdb {
  driver = passwd-file
  args = ${root}/passwd
}
service imap-login {${rootless ? '\n  chroot =' : ''}
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${lmtpPort}
  }
}
${rootless ? '# Not root: no chroot for the login and anvil processes.\nservice anvil {\n  chroot =\n}\n' : ''}${extra}
`;
}

export async function startDovecot(opts: DovecotOptions): Promise<Dovecot> {
  await requireDovecot();
  const users = processUsers(opts.mailOwner);
  const { uid, gid } = users.mail;
  const adoptMaildir = async (maildir: string, adopt: { searchableFrom?: string } = {}): Promise<void> => {
    if (uid === process.getuid?.()) return; // not root: Dovecot's mail processes run as us
    if (adopt.searchableFrom !== undefined) await makeSearchable(resolve(adopt.searchableFrom), resolve(maildir));
    await checkTraversable(maildir);
    await chownTree(maildir, uid, gid);
  };

  const tmp = await makeTempDir('dovecot');
  const root = tmp.path;
  // Each user's Maildir (created if missing, handed to the mail owner), private home, passwd-file line.
  const prepareUser = async (user: DovecotUser): Promise<string> => {
    const home = await tmp.sub(join('home', user.name), 0o700);
    await chown(home, uid, gid);
    if (user.maildir === undefined) return passwdLine(user, home);
    const maildir = resolve(user.maildir);
    // 0755: parents this creates must stay searchable (adoptMaildir checks them).
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(maildir, sub), { recursive: true, mode: 0o755 });
    const from = opts.searchableFrom === undefined ? undefined : resolve(opts.searchableFrom);
    await adoptMaildir(maildir, from !== undefined && isUnder(from, maildir) ? { searchableFrom: from } : {});
    return passwdLine({ ...user, maildir }, home);
  };
  const lines: string[] = [];
  try {
    for (const user of opts.users) lines.push(await prepareUser(user));
  } catch (err) {
    await tmp.remove();
    throw err;
  }
  // Read by the auth process, which runs as default_internal_user.
  const passwdFile = join(root, 'passwd');
  await writeFile(passwdFile, lines.join('\n') + '\n', { mode: 0o600 });
  const internal = idsOf(users.internal);
  await chown(passwdFile, internal.uid, internal.gid);
  const [imapPort, lmtpPort] = opts.ports === undefined ? ((await freePorts(2)) as [number, number]) : [opts.ports.imap, opts.ports.lmtp];
  const configFile = join(root, 'dovecot.conf');
  await writeFile(configFile, dovecotConf(root, imapPort, lmtpPort, users, opts.extra ?? ''), { mode: 0o644 });
  const logFile = join(root, 'dovecot.log');
  const log = (): Promise<string> => readFile(logFile, 'utf8').catch(() => '');

  const daemon = startDaemon('dovecot', DOVECOT, ['-c', configFile, '-F'], { cwd: root });
  // SIGTERM: the master stops its children and removes its pid file before exiting.
  const stop = async (): Promise<void> => {
    await daemon.stop(5_000);
    await tmp.remove();
  };
  try {
    await waitFor(
      `dovecot imap on 127.0.0.1:${imapPort} and lmtp on 127.0.0.1:${lmtpPort}`,
      async () => ((await tcpListening(imapPort)) && (await tcpListening(lmtpPort)) ? true : undefined),
      { daemon, timeoutMs: 15_000, diagnostics: async () => `--- ${logFile} ---\n${await log()}` },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    host: '127.0.0.1',
    imapPort,
    lmtpPort,
    lmtpSpec: `inet:127.0.0.1:${lmtpPort}`,
    configFile,
    logFile,
    mailOwner: { uid, gid },
    daemon,
    log,
    adoptMaildir,
    stop,
  };
}
