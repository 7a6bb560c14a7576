/** greylist.conf, parsed: global settings, named lists and macros, and the ACLs in order. */

/** A string compared as milter-greylist does (exact, case-insensitive for addresses) or a regex. */
export type Pattern = { readonly kind: 'string'; readonly value: string } | { readonly kind: 'regex'; readonly source: string };

export type ListType = 'addr' | 'from' | 'rcpt' | 'domain' | 'helo';

/** Values a clause tests: one pattern, or an inline `{ ... }` list (any item matches). */
export type ClauseValue = readonly Pattern[];

export type Comparison = '<' | '<=' | '>' | '>=' | '==' | '!=';

export type SpfWanted = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'unknown' | 'error' | 'self';

export type Clause =
  | { readonly kind: 'default' }
  | { readonly kind: ListType; readonly values: ClauseValue }
  | { readonly kind: 'auth' | 'tls' | 'header' | 'body'; readonly values: ClauseValue }
  | { readonly kind: 'sm_macro' | 'list'; readonly name: string }
  | { readonly kind: 'spf'; readonly result: SpfWanted }
  | { readonly kind: 'msgsize' | 'rcptcount'; readonly op: Comparison; readonly value: number; readonly written: string }
  | { readonly kind: 'not'; readonly clause: Clause };

export type AclAction = 'whitelist' | 'greylist' | 'blacklist' | 'continue';

/** Per-ACL settings (`delay 10m code "451" ...`), seconds for times. */
export interface AclSettings {
  readonly delay?: number;
  readonly autowhite?: number;
  readonly code?: string;
  readonly ecode?: string;
  readonly msg?: string;
  readonly report?: string;
}

export interface Acl extends AclSettings {
  /** racl: checked at RCPT; dacl: at end of DATA. The legacy `acl` is a racl. */
  readonly stage: 'rcpt' | 'data';
  readonly keyword: 'racl' | 'dacl' | 'acl';
  readonly id?: string;
  readonly action: AclAction;
  /** All must match (an empty list never happens: `default` is a clause). */
  readonly clauses: readonly Clause[];
  /** Line of the ACL in the greylist.conf text (for "ACL 12 matched" and logs). */
  readonly line: number;
}

export interface MacroDefinition {
  readonly name: string;
  /** Macro name as written, e.g. "{trusted_domain}". */
  readonly macro: string;
  /** Compared exactly, by regex, or: the macro must be absent. */
  readonly value: Pattern | { readonly kind: 'unset' };
}

export interface ListDefinition {
  readonly name: string;
  readonly type: ListType;
  readonly items: readonly Pattern[];
}

export type ReportMode = 'none' | 'delays' | 'nodelays' | 'all';

/** Flags milter-greylist knows that change what this filter does. */
export interface ConfFlags {
  readonly quiet: boolean;
  readonly noauth: boolean;
  readonly nospf: boolean;
  readonly noaccessdb: boolean;
  readonly lazyaw: boolean;
  readonly multiracl: boolean;
  readonly delayedreject: boolean;
  readonly domainexact: boolean;
}

export interface GreylistConf {
  /** IPv4 prefix length tuples are grouped by (milter-greylist default 32). */
  readonly subnetmatch: number;
  /** IPv6 prefix length (default 128). */
  readonly subnetmatch6: number;
  /** Seconds; defaults 30m, 1d, 5d as in milter-greylist. */
  readonly greylist: number;
  readonly autowhite: number;
  readonly timeout: number;
  readonly report: ReportMode;
  readonly flags: ConfFlags;
  readonly macros: readonly MacroDefinition[];
  readonly lists: readonly ListDefinition[];
  readonly acls: readonly Acl[];
  /** Statements accepted but without effect here (socket, pidfile, dumpfile...), one note each. */
  readonly notes: readonly { readonly line: number; readonly text: string }[];
}

export const CONF_DEFAULTS = {
  subnetmatch: 32,
  subnetmatch6: 128,
  greylist: 1800,
  autowhite: 86_400,
  timeout: 432_000,
  report: 'all',
} as const satisfies Partial<GreylistConf>;

export const NO_FLAGS: ConfFlags = Object.freeze({
  quiet: false,
  noauth: false,
  nospf: false,
  noaccessdb: false,
  lazyaw: false,
  multiracl: false,
  delayedreject: false,
  domainexact: false,
});
