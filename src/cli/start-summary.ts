/**
 * What `mailgate start` prints once it runs: what started and where, then the next two commands a person
 * would type (add a user; send a test mail with swaks). Pure, so the text is tested without a server.
 */
import { formatListenAddress } from '../config/listen-address.js';
import type { ListenAddress, MailgateConfig } from '../config/schema.js';
import { postfixMilterAdvice } from './postfix-milters.js';

export interface StartSummary {
  readonly config: MailgateConfig;
  /** The configuration file, or undefined for the embedded defaults. */
  readonly file: string | undefined;
  readonly certFile: string;
  readonly selfSigned: boolean;
  readonly certCreated: boolean;
  readonly children: readonly string[];
  /** How the reader runs the command: "mailgate", or "npx mailgate" inside the clone. */
  readonly command: string;
  /** Whether the milter listener runs (a configuration file without [manager] has none); default true. */
  readonly milterListener?: boolean;
}

const list = (addresses: readonly ListenAddress[]): string => (addresses.length === 0 ? 'off' : addresses.map(formatListenAddress).join(', '));

/** A wildcard address reached on loopback, as a client on this machine would. */
function reachable(address: ListenAddress): { host: string; port: number } {
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host;
  return { host, port: address.port };
}

/** The test mail: to the MX listener unauthenticated (local mail needs no AUTH), else through submission. */
function swaksLine(config: MailgateConfig, user: string): string {
  const mx = config.smtp.listen[0];
  if (mx !== undefined) {
    const { host, port } = reachable(mx);
    return `swaks --server ${host} --port ${port} --from you@example.org --to ${user}`;
  }
  const submission = config.submission.listen[0];
  if (submission !== undefined) {
    const { host, port } = reachable(submission);
    return `swaks --server ${host} --port ${port} --tls --auth-user ${user} --from ${user} --to ${user}`;
  }
  const tls = config.submission.tlsListen[0];
  if (tls !== undefined) {
    const { host, port } = reachable(tls);
    return `swaks --server ${host} --port ${port} --tlsc --auth-user ${user} --from ${user} --to ${user}`;
  }
  return '(no SMTP listener is configured: set [smtp] listen)';
}

/** Where the user reads the test mail: the first IMAP listener, else POP3's (none when both are off). */
function readLine(config: MailgateConfig, user: string): string[] {
  const imap = config.imap.listen[0] ?? config.imap.tlsListen[0];
  const pop3 = config.pop3.listen[0] ?? config.pop3.tlsListen[0];
  const at = imap ?? pop3;
  if (at === undefined) return [];
  const { host, port } = reachable(at);
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return [`and read it with a mail client: ${imap !== undefined ? 'IMAP' : 'POP3'} at ${where}, user ${user}`];
}

export function formatStartSummary(s: StartSummary): string {
  const c = s.config;
  const domain = c.domains.local[0] ?? 'localhost';
  const user = `alice@${domain}`;
  const configOption = s.file === undefined ? '' : ` --config ${s.file}`;
  const milter = postfixMilterAdvice(c.manager.connectionSpec).spec;
  const delivery =
    c.delivery.lmtp !== undefined
      ? `local mail over LMTP to ${c.delivery.lmtp}`
      : `local mail to Maildirs under ${c.dataDir}/mail`;
  const remote = c.delivery.relayHost !== undefined ? `remote mail through relay_host ${c.delivery.relayHost.text}` : 'remote mail by MX lookup';
  const certNote = s.selfSigned ? `self-signed for ${c.hostname}${s.certCreated ? ', made now' : ''}` : 'from [tls]';
  const source = s.file === undefined ? 'embedded defaults: no configuration file' : s.file;
  const lines = [
    `Mailgate is running as ${c.hostname} (${source}).`,
    `  MX (SMTP)                      ${list(c.smtp.listen)}`,
    `  submission (STARTTLS, AUTH)    ${list(c.submission.listen)}`,
    `  submission (implicit TLS)      ${list(c.submission.tlsListen)}`,
    `  IMAP (STARTTLS) / IMAPS        ${list(c.imap.listen)} / ${list(c.imap.tlsListen)}`,
    `  POP3 (STLS) / POP3S            ${list(c.pop3.listen)} / ${list(c.pop3.tlsListen)}`,
    s.milterListener === false
      ? `  milter for Postfix             off   (a [manager] section with connection_spec turns it on)`
      : `  milter for Postfix             ${c.manager.connectionSpec}   (main.cf: smtpd_milters = ${milter})`,
    `  filters                        ${s.children.length === 0 ? 'none ([[milter]] in the configuration)' : s.children.join(', ')}`,
    `  local domains                  ${c.domains.local.length === 0 ? 'none in the configuration' : c.domains.local.join(', ')} (and those added with \`domain add\`)`,
    `  delivery                       ${delivery}; ${remote}`,
    `  TLS certificate                ${s.certFile} (${certNote})`,
    `  data                           ${c.dataDir}`,
    '',
    'Next, in another terminal: add a user (it asks for a password), then send a test mail:',
    `  ${s.command} user add ${user}${configOption}`,
    `  ${swaksLine(c, user)}`,
    ...readLine(c, user),
    '',
    'Ctrl-C or SIGTERM stops it (sessions in flight finish first); SIGHUP reloads the configuration.',
  ];
  return `${lines.join('\n')}\n`;
}

