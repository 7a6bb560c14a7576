/** The milters milter-manager looks for, with its preset applicable conditions. */

/** Whose own configuration file can name the socket. */
export type AppConfigKind = 'clamav-milter' | 'milter-greylist' | 'opendkim' | 'rspamd';

export interface Candidate {
  readonly name: string;
  /**
   * milter-manager's presets, limited to Mailgate's built-in conditions: milter-greylist's "Sendmail
   * Compatible" (which fills Sendmail macros for Postfix) has no Mailgate counterpart and is left out.
   */
  readonly conditions: readonly string[];
  /** The daemon's command-line option that names the socket (libmilter milters use -p). */
  readonly socketOption?: string;
  readonly app?: AppConfigKind;
  /**
   * In init scripts, the application's file is read before the script's variables: its init script passes no
   * socket (clamav-milter, rspamd) or only when the file names none (Debian's opendkim). Otherwise the script's
   * `-p $SOCKET` overrides the file (milter-greylist).
   */
  readonly appFirstForInit?: boolean;
  /** Variables whose `-p` comes after the script's own `-p $SOCKET` and so wins (spamass-milter's OPTIONS). */
  readonly overridingOptionVariables?: readonly string[];
}

const POLICY_LIKE = ['Remote Network', 'Unauthenticated', 'No Stress'] as const;

/** Debian's list (milter-manager's defaults/debian.conf, with rspamd); Red Hat uses the same names. */
export const CANDIDATES: readonly Candidate[] = [
  {
    name: 'milter-greylist',
    conditions: ['Stress Notify', 'Trust', 'Remote Network', 'S25R', 'Unauthenticated'],
    socketOption: '-p',
    app: 'milter-greylist',
  },
  { name: 'spfmilter', conditions: POLICY_LIKE, socketOption: '-p' },
  { name: 'clamav-milter', conditions: [], app: 'clamav-milter', appFirstForInit: true },
  { name: 'dkim-filter', conditions: [], socketOption: '-p' },
  { name: 'opendkim', conditions: [], socketOption: '-p', app: 'opendkim', appFirstForInit: true },
  { name: 'spamass-milter', conditions: POLICY_LIKE, socketOption: '-p', overridingOptionVariables: ['OPTIONS'] },
  { name: 'amavisd-new-milter', conditions: [], socketOption: '-p' },
  { name: 'rspamd', conditions: POLICY_LIKE, app: 'rspamd', appFirstForInit: true },
];

/** Init-script / defaults variables that hold the socket itself, in order. */
export const SOCKET_VARIABLES = ['SOCKET', 'SOCKFILE', 'SOCKET_ADDRESS', 'MILTER_SOCKET', 'CONNECTION_SPEC'] as const;
/** Variables holding daemon options, searched for the socket option, in order. */
export const OPTION_VARIABLES = ['OPTARGS', 'DAEMON_ARGS', 'PARAMS', 'OPTIONS', 'DAEMON_OPTS'] as const;
