/** What auto-detection reports. */

export type Platform = 'debian' | 'redhat';

/** How a milter's service was found: a systemd unit or an init script. */
export type ServiceKind = 'systemd' | 'init';

/**
 * The kind of file the socket came from: the systemd unit (or its drop-ins, Environment= or EnvironmentFile),
 * the init script (or /etc/default/NAME, /etc/sysconfig/NAME), or the milter's own configuration file.
 */
export type SocketSource = 'systemd' | 'init' | 'config';

export interface DetectOptions {
  /** Directory every system path is read below; default "/". */
  readonly root?: string;
  /** Default: debian when ROOT/etc/debian_version exists, redhat when ROOT/etc/redhat-release does, else debian. */
  readonly platform?: Platform;
}

export interface DetectedMilter {
  /** The candidate's (package's) name, e.g. "opendkim". */
  readonly name: string;
  /** From the unit's Description=, the init script's LSB Description / DESC, or Red Hat's `# description:`. */
  readonly description?: string;
  /** Normalised and checked with parseConnectionSpec; undefined when none was found or it is unusable (see `problem`). */
  readonly connectionSpec?: string;
  /** The socket exactly as written where it was found. */
  readonly writtenSpec?: string;
  /** Whether the service starts at boot; false whenever `problem` is set. */
  readonly enabled: boolean;
  readonly service: ServiceKind;
  /** The unit file or init script, as a path on this machine. */
  readonly serviceFile: string;
  /** Where the socket came from (the service's kind when no socket was found). */
  readonly source: SocketSource;
  /** The file the socket came from, as a path on this machine (the service file when no socket was found). */
  readonly sourceFile: string;
  /** 1-based line of the socket in `sourceFile`, when known. */
  readonly sourceLine?: number;
  /** milter-manager's preset conditions for this milter (built-in names only). */
  readonly applicableConditions: readonly string[];
  /** milter-greylist only: the longest `tarpit` of its ACLs, in seconds (added to the reading and writing timeouts). */
  readonly tarpitSeconds?: number;
  /** Why this milter cannot be used as found (no socket, unparsable socket, clamav-milter's Example line, ...). */
  readonly problem?: string;
  /** Other remarks worth showing (e.g. an ignored setting). */
  readonly notes: readonly string[];
}
