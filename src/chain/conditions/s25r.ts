/**
 * "S25R" (Selective SMTP Rejection): apply the child (normally greylisting) only to clients whose
 * reverse-DNS name looks like a dynamic/end-user address, or that have no reverse DNS at all.
 * Real mail servers usually have static-looking names and are left alone.
 */
import { APPLY, STOP, type Condition, type ConditionStage } from '../condition.js';
import { classifyClient } from './client-address.js';
import { nameMatcher, type NamePattern } from './patterns.js';

export interface S25rOptions {
  /** Names never treated as dynamic (add_whitelist). Checked before the blacklist, so they always win. */
  whitelist?: readonly NamePattern[];
  /** Extra names treated as dynamic (add_blacklist). */
  blacklist?: readonly NamePattern[];
  /** Only judge IPv4 clients; other clients are not applied (s25r.check_only_ipv4, default true). */
  checkOnlyIpv4?: boolean;
}

/**
 * Big senders whose outbound host names trip the rules below (e.g. mail-yw1-f123.google.com) but
 * which retry properly and should not be greylisted. Ruby's \z is JavaScript's $ without the m flag.
 */
export const DEFAULT_S25R_WHITELIST: readonly RegExp[] = Object.freeze([
  /\.google\.com$/,
  /\.obsmtp\.com$/,
  /\.smtp-out\.amazonses\.com$/,
  /\.slack\.com$/,
  /\.mg\.gitlab\.com$/,
  /\.sendgrid\.net$/,
]);

/**
 * The S25R rules, as in milter-manager (Ruby \A → ^, \z → $; JavaScript's ^ and $ anchor the whole
 * string without the m flag, as \A and \z do). "unknown" and "[address]" are what MTAs report when
 * reverse DNS failed.
 */
export const DEFAULT_S25R_BLACKLIST: readonly NamePattern[] = Object.freeze([
  'unknown',
  /^\[.+\]$/,
  // Rule 1: digits separated by non-digits in the first label, e.g. p1234-ipbf12.example.ne.jp
  /^[^.]*\d[^\d.]+\d.*\./,
  // Rule 2: five digits in a row in the first label, e.g. host12345.example.com
  /^[^.]*\d{5}/,
  // Rule 3: the first or second label starts with a digit, e.g. client.1host.isp.example.com
  /^(?:[^.]+\.)?\d[^.]*\.[^.]+\..+\.[a-z]/i,
  // Rule 4: first label ends with a digit, second has digit-digit, e.g. host1.pool2-3.example.com
  /^[^.]*\d\.[^.]*\d-\d/,
  // Rule 5: first two labels end with digits, at least five labels, e.g. mail1.pool2.isp.example.com
  /^[^.]*\d\.[^.]*\d\.[^.]+\..+\./,
  // Rule 6: dial-up/DSL prefixes followed by a digit, e.g. dhcp123.example.com
  /^(?:dhcp|dialup|ppp|[achrsvx]?dsl)[^.]*\d/i,
]);

const STAGES: ReadonlySet<ConditionStage> = new Set<ConditionStage>(['connect']);

export function createS25r(options: S25rOptions = {}): Condition {
  const whitelist = nameMatcher([...DEFAULT_S25R_WHITELIST, ...(options.whitelist ?? [])]);
  const blacklist = nameMatcher([...DEFAULT_S25R_BLACKLIST, ...(options.blacklist ?? [])]);
  const checkOnlyIpv4 = options.checkOnlyIpv4 ?? true;
  return {
    name: 'S25R',
    description: 'Selective SMTP Rejection',
    stages: STAGES,
    check(stage, ctx) {
      if (stage !== 'connect') return APPLY;
      const connection = ctx.connection;
      if (checkOnlyIpv4) {
        // IPv4-mapped IPv6 clients are IPv4 clients; an inet client whose address is missing still is.
        const kind = classifyClient(connection).kind;
        const ipv4 = kind === 'ipv4' || (kind === 'unknown' && connection?.family === 'inet');
        if (!ipv4) return STOP;
      }
      const host = connection?.hostname;
      if (host === undefined) return STOP;
      if (whitelist.matches(host)) return STOP;
      return blacklist.matches(host) ? APPLY : STOP;
    },
  };
}
