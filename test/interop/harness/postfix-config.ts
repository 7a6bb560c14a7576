// main.cf / master.cf for the private Postfix instance (see postfix.ts).
// Relay-only: nothing is delivered locally, everything goes to the smtp-sink
// at [127.0.0.1]:relayPort without DNS, through the milter(s) under test.
import { join } from 'node:path';

// Every service in chroot n (the temp dirs are not set up as chroot jails), but
// smtpd may be chrooted in the queue directory, as Debian does, to test how it
// names a milter socket. Only what a relay-only instance needs; postlog is
// required by maillog_file; tlsmgr by smtpd's STARTTLS (without it: "454 4.7.0 TLS not available").
export const masterCf = (port: number, smtpdChroot = false): string => `
127.0.0.1:${port} inet n - ${smtpdChroot ? 'y' : 'n'} - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
tlsmgr    unix  - - n 1000? 1 tlsmgr
`;

export function mainCf(root: string, milters: string, relayPort: number, extra: Record<string, string>): string {
  const params: Record<string, string> = {
    compatibility_level: '3.6',
    queue_directory: join(root, 'queue'),
    data_directory: join(root, 'data'),
    // postfix-files / dynamicmaps.cf are copied here; `postfix check` reads them.
    meta_directory: join(root, 'meta'),
    maillog_file: join(root, 'maillog'),
    maillog_file_prefixes: root,
    myhostname: 'mailgate-test.localdomain',
    mydomain: 'localdomain',
    myorigin: 'localdomain',
    // Nothing is local: every recipient goes to the relayhost.
    mydestination: '',
    local_recipient_maps: '',
    local_transport: 'error:5.1.1 no local delivery in tests',
    alias_maps: '',
    alias_database: '',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    mynetworks: '127.0.0.0/8',
    smtpd_relay_restrictions: 'permit_mynetworks, reject',
    smtpd_authorized_xclient_hosts: '127.0.0.0/8',
    relayhost: `[127.0.0.1]:${relayPort}`,
    default_transport: 'smtp',
    // No DNS at all: the bracketed relayhost is resolved via /etc/hosts rules.
    smtp_dns_support_level: 'disabled',
    smtp_host_lookup: 'native',
    smtp_connect_timeout: '5s',
    smtputf8_enable: 'no',
    biff: 'no',
    smtpd_milters: milters,
    non_smtpd_milters: '',
    milter_protocol: '6',
    milter_default_action: 'tempfail',
    // Keep a hung milter well inside a test's 60 s budget.
    milter_connect_timeout: '10s',
    milter_command_timeout: '10s',
    milter_content_timeout: '20s',
    ...extra,
  };
  return Object.entries(params).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n';
}
