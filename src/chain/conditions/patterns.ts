/**
 * Name lists made of exact strings and regular expressions (S25R host lists, Trust domains).
 *
 * Strings match the whole text case-insensitively: host and domain names are case-insensitive, and a
 * string entry is what a user writes when they mean "exactly this name". Regular expressions are used
 * as given, except that the g and y flags are dropped: they make `test()` stateful (lastIndex), so the
 * same name would alternately match and not match.
 */
export type NamePattern = string | RegExp;

/** A copy of `re` that `test()` can be called on repeatedly with the same answer. */
export function statelessRegExp(re: RegExp): RegExp {
  return re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : new RegExp(re);
}

export interface NameMatcher {
  /** True when any entry matches `name`. */
  matches(name: string): boolean;
}

export function nameMatcher(patterns: readonly NamePattern[]): NameMatcher {
  const exact = new Set<string>();
  const regexps: RegExp[] = [];
  for (const p of patterns) {
    if (typeof p === 'string') exact.add(p.toLowerCase());
    else if (p instanceof RegExp) regexps.push(statelessRegExp(p));
    else throw new TypeError(`expected a string or RegExp, got ${typeof p}`);
  }
  return {
    matches: (name) => exact.has(name.toLowerCase()) || regexps.some((re) => re.test(name)),
  };
}
