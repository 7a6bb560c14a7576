/** milter-greylist keywords grouped by what Mailgate does with them. */
import type { ConfFlags, SpfWanted } from './ast.js';

/** Global flags that change this filter's behaviour. */
export const FLAG_KEYWORDS: readonly (keyof ConfFlags)[] = [
  'quiet',
  'noauth',
  'nospf',
  'noaccessdb',
  'lazyaw',
  'multiracl',
  'delayedreject',
  'domainexact',
];

/**
 * Statements of the daemon itself (its socket, pid file, dump file, MX-sync peers, logging) and
 * definitions for checks Mailgate does elsewhere or not at all: accepted with a note so an existing
 * greylist.conf loads; the rest of the statement is skipped. An ACL that *uses* one of the checks
 * is refused (see UNSUPPORTED_CLAUSES), since ignoring a condition would change decisions.
 */
export const IGNORED_STATEMENTS: Readonly<Record<string, string>> = {
  pidfile: 'Mailgate has its own pid handling',
  socket: 'the manager owns the milter socket',
  dumpfile: 'state lives in the configured store (store = sqlite/redis/memory)',
  dumpfreq: 'state lives in the configured store',
  dumpfile_mode: 'state lives in the configured store',
  user: 'Mailgate runs as its own user',
  verbose: 'logging is set by Mailgate',
  debug: 'logging is set by Mailgate',
  quiet_log: 'logging is set by Mailgate',
  logfac: 'logging is set by Mailgate',
  logexpired: 'logging is set by Mailgate',
  nodetach: 'Mailgate does not detach',
  testmode: 'deprecated in milter-greylist',
  peer: 'MX-sync is replaced by the shared Redis store',
  syncaddr: 'MX-sync is replaced by the shared Redis store',
  syncsrcaddr: 'MX-sync is replaced by the shared Redis store',
  syncmaxqlen: 'MX-sync is replaced by the shared Redis store',
  extendedregex: 'regular expressions are JavaScript regular expressions',
  unbracket: 'the client name is used as the MTA reports it',
  maxpeek: 'header and body clauses see the whole message',
  drac: 'DRAC is not supported',
  dracdb: 'DRAC is not supported',
  nodrac: 'DRAC is not supported',
  stat: 'statistics come from the manager log',
  timeout_set: 'not used',
  dnsrbl: 'dnsrbl checks are not supported (definition ignored)',
  urlcheck: 'urlcheck is not supported (definition ignored)',
  ldapcheck: 'ldapcheck is not supported (definition ignored)',
  ldapconf: 'ldapcheck is not supported (definition ignored)',
  spamdsock: 'use the spamassassin built-in filter (definition ignored)',
  spamdsocku: 'use the spamassassin built-in filter (definition ignored)',
  ratelimit: 'ratelimit is not supported (definition ignored)',
  geoipdb: 'geoip is not supported (definition ignored)',
  geoip2db: 'geoip is not supported (definition ignored)',
  p0fsock: 'p0f is not supported (definition ignored)',
  nsupdate: 'nsupdate is not supported (definition ignored)',
  tsig: 'nsupdate is not supported (definition ignored)',
  mxcheck: 'not supported',
  domainmatch: 'not supported',
};

/** ACL clauses milter-greylist has and Mailgate does not evaluate: an ACL using one is refused. */
export const UNSUPPORTED_CLAUSES = new Set([
  'dnsrbl',
  'urlcheck',
  'ldapcheck',
  'ratelimit',
  'geoip',
  'p0f',
  'time',
  'mx',
  'dkim',
  'spamd',
  'tarpit',
  'nsupdate',
  'rawfrom',
  'set',
  'prop',
  'log',
  'flushaddr',
  'addheader',
  'addfooter',
  'subjtag',
]);

export const SPF_RESULTS: readonly SpfWanted[] = ['pass', 'fail', 'softfail', 'neutral', 'none', 'unknown', 'error', 'self'];

/** Clauses that need the message (only in dacl). */
export const DATA_CLAUSES = new Set(['header', 'body', 'msgsize']);
