/**
 * The ACL engine: greylist.conf's racl/dacl entries compiled once into matchers, then evaluated in
 * order, first match wins; a `continue` entry that matches contributes its settings (delay,
 * autowhite, code, ecode, msg, report) and evaluation goes on. Each match also says which kinds of
 * clause matched, for the X-Greylist "why not delayed" text.
 */
import { BlockList, isIPv4 } from 'node:net';
import type { Acl, AclAction, AclSettings, Clause, Comparison, GreylistConf, ListType, MacroDefinition, Pattern } from './conf/ast.js';
import type { AclFacts } from './facts.js';
import { asIPv4 } from './tuple.js';

/** Clause kinds that matched in the deciding ACL (for the X-Greylist reasons). */
export type MatchedKind = 'addr' | 'domain' | 'from' | 'rcpt' | 'auth' | 'tls' | 'spf' | 'default' | 'other';

export type { AclSettings };

export interface AclDecision {
  readonly action: Exclude<AclAction, 'continue'>;
  /** The deciding ACL; undefined when none matched (the stage's default applies). */
  readonly acl: Acl | undefined;
  readonly settings: AclSettings;
  readonly matched: ReadonlySet<MatchedKind>;
}

type Test = (facts: AclFacts, matched: Set<MatchedKind>) => boolean | Promise<boolean>;

interface CompiledAcl {
  readonly acl: Acl;
  readonly tests: readonly Test[];
}

const SPF_NAMES: Readonly<Record<string, string>> = { unknown: 'permerror', error: 'temperror' };

export class AclEngine {
  private readonly rcptAcls: CompiledAcl[];
  private readonly dataAcls: CompiledAcl[];
  /** milter-greylist turns its global AUTH/TLS and SPF bypasses off when any ACL tests them. */
  readonly usesAuthOrTls: boolean;
  readonly usesSpf: boolean;

  constructor(private readonly conf: GreylistConf) {
    const compiled = conf.acls.map((acl) => ({ acl, tests: acl.clauses.map((c) => this.compile(c)) }));
    this.rcptAcls = compiled.filter((c) => c.acl.stage === 'rcpt');
    this.dataAcls = compiled.filter((c) => c.acl.stage === 'data');
    const kinds = new Set(conf.acls.flatMap((a) => a.clauses.flatMap(clauseKinds)));
    this.usesAuthOrTls = kinds.has('auth') || kinds.has('tls');
    this.usesSpf = kinds.has('spf');
  }

  get hasDataAcls(): boolean {
    return this.dataAcls.length > 0;
  }

  /** Evaluates the racl (stage rcpt) or dacl (stage data) entries; no match: greylist at RCPT, whitelist at DATA. */
  async evaluate(stage: 'rcpt' | 'data', facts: AclFacts): Promise<AclDecision> {
    let settings: AclSettings = {};
    for (const { acl, tests } of stage === 'rcpt' ? this.rcptAcls : this.dataAcls) {
      const matched = new Set<MatchedKind>();
      let all = true;
      for (const test of tests) {
        if (!(await test(facts, matched))) {
          all = false;
          break;
        }
      }
      if (!all) continue;
      settings = { ...settings, ...settingsOf(acl) };
      if (acl.action === 'continue') continue;
      return { action: acl.action, acl, settings, matched };
    }
    return { action: stage === 'rcpt' ? 'greylist' : 'whitelist', acl: undefined, settings, matched: new Set(['default']) };
  }

  private compile(clause: Clause): Test {
    switch (clause.kind) {
      case 'default':
        return (_f, m) => m.add('default') !== undefined;
      case 'not': {
        const inner = this.compile(clause.clause);
        // A negated clause is not a reason ("Sender passed SPF test" must not follow "not spf pass").
        return async (f) => !(await inner(f, new Set()));
      }
      case 'addr':
      case 'domain':
      case 'from':
      case 'rcpt':
      case 'helo':
        return this.listTest(clause.kind, clause.values);
      case 'list': {
        const def = this.conf.lists.find((l) => l.name === clause.name);
        if (def === undefined) return () => false; // the parser refuses undefined lists
        return this.listTest(def.type, def.items);
      }
      case 'auth': {
        const match = stringOrRegex(clause.values);
        return (f, m) => mark(m, 'auth', matchMacro(f, '{auth_authen}', match));
      }
      case 'tls': {
        const match = stringOrRegex(clause.values);
        return (f, m) => mark(m, 'tls', matchMacro(f, '{cert_subject}', match));
      }
      case 'sm_macro': {
        const def = this.conf.macros.find((d) => d.name === clause.name);
        if (def === undefined) return () => false;
        const test = macroTest(def);
        return (f, m) => mark(m, 'other', test(f));
      }
      case 'spf': {
        const wanted = SPF_NAMES[clause.result] ?? clause.result;
        return async (f, m) => mark(m, 'spf', f.address !== undefined && (await f.spf()) === wanted);
      }
      case 'header': {
        const match = containsOrRegex(clause.values);
        return (f, m) => mark(m, 'other', f.message?.headers.some((h) => match(`${h.name}: ${h.value}`)) ?? false);
      }
      case 'body': {
        const match = containsOrRegex(clause.values);
        return (f, m) => mark(m, 'other', f.message?.body.split(/\r?\n/).some(match) ?? false);
      }
      case 'msgsize':
        return (f, m) => mark(m, 'other', f.message !== undefined && compare(f.message.size, clause.op, clause.value));
      case 'rcptcount':
        return (f, m) =>
          mark(m, 'other', compare(f.recipients.length + (f.recipient !== undefined ? 1 : 0), clause.op, clause.value));
    }
  }

  private listTest(type: ListType, items: readonly Pattern[]): Test {
    switch (type) {
      case 'addr': {
        const nets = networks(items);
        return (f, m) => mark(m, 'addr', f.address !== undefined && inNetworks(nets, f.address));
      }
      case 'domain': {
        const match = domainMatcher(items, this.conf.flags.domainexact);
        return (f, m) => mark(m, 'domain', match(f.hostname));
      }
      case 'helo': {
        const match = stringOrRegex(items);
        return (f, m) => mark(m, 'other', match(f.helo));
      }
      case 'from': {
        const match = addressMatcher(items);
        return (f, m) => mark(m, 'from', match(f.sender));
      }
      case 'rcpt': {
        const match = addressMatcher(items);
        return (f, m) =>
          mark(m, 'rcpt', f.recipient !== undefined ? match(f.recipient) : f.recipients.length > 0 && f.recipients.some(match));
      }
    }
  }
}

function settingsOf(acl: Acl): AclSettings {
  const out: { -readonly [K in keyof AclSettings]: AclSettings[K] } = {};
  if (acl.delay !== undefined) out.delay = acl.delay;
  if (acl.autowhite !== undefined) out.autowhite = acl.autowhite;
  if (acl.code !== undefined) out.code = acl.code;
  if (acl.ecode !== undefined) out.ecode = acl.ecode;
  if (acl.msg !== undefined) out.msg = acl.msg;
  if (acl.report !== undefined) out.report = acl.report;
  return out;
}

function clauseKinds(c: Clause): string[] {
  return c.kind === 'not' ? clauseKinds(c.clause) : [c.kind];
}

function mark(m: Set<MatchedKind>, kind: MatchedKind, ok: boolean): boolean {
  if (ok) m.add(kind);
  return ok;
}

function regexTest(source: string): (s: string) => boolean {
  const re = new RegExp(source, 'i');
  return (s) => re.test(s);
}

/**
 * Any of `items`: strings looked up in a Set (after `key`), regexes searched in turn. A named list
 * may hold thousands of entries and is tested for every recipient, so strings are not walked.
 */
function setOrRegex(items: readonly Pattern[], key: (s: string) => string): (s: string) => boolean {
  const exact = new Set(items.flatMap((p) => (p.kind === 'regex' ? [] : [key(p.value)])));
  const regexes = items.flatMap((p) => (p.kind === 'regex' ? [regexTest(p.source)] : []));
  return (s) => (exact.size > 0 && exact.has(key(s))) || regexes.some((t) => t(s));
}

/** Exact (case-insensitive) for strings, search for regexes. */
function stringOrRegex(items: readonly Pattern[]): (s: string) => boolean {
  return setOrRegex(items, (s) => s.toLowerCase());
}

/** Substring (case-insensitive) for strings, search for regexes: header and body clauses. */
function containsOrRegex(items: readonly Pattern[]): (s: string) => boolean {
  const tests = items.map((p) => (p.kind === 'regex' ? regexTest(p.source) : (s: string) => s.toLowerCase().includes(p.value.toLowerCase())));
  return (s) => tests.some((t) => t(s));
}

/** Envelope addresses: angle brackets ignored, case-insensitive (milter-greylist's emailcmp). */
function addressMatcher(items: readonly Pattern[]): (address: string) => boolean {
  return setOrRegex(items, (s) => s.replace(/^[<\s]+|[>\s]+$/g, '').toLowerCase());
}

/**
 * milter-greylist's domaincmp: the host name ends with the domain (case-insensitive); exact with
 * domainexact. The domains are a Set: exact is one lookup, "ends with" (past a handful of domains)
 * one lookup per suffix of the host name, whatever the size of the list.
 */
function domainMatcher(items: readonly Pattern[], exact: boolean): (host: string) => boolean {
  const domains = new Set(items.flatMap((p) => (p.kind === 'regex' ? [] : [p.value.toLowerCase()])));
  const regexes = items.flatMap((p) => (p.kind === 'regex' ? [regexTest(p.source)] : []));
  const few = [...domains];
  const endsWithOne =
    few.length <= 8
      ? (h: string): boolean => few.some((d) => h.endsWith(d))
      : (h: string): boolean => {
          for (let i = 0; i <= h.length; i++) if (domains.has(h.slice(i))) return true;
          return false;
        };
  return (host) => {
    const h = host.toLowerCase();
    return (domains.size > 0 && (exact ? domains.has(h) : endsWithOne(h))) || regexes.some((t) => t(host));
  };
}

function matchMacro(f: AclFacts, name: string, match: (s: string) => boolean): boolean {
  const v = f.macros.get(name);
  return v !== undefined && match(v);
}

function macroTest(def: MacroDefinition): (f: AclFacts) => boolean {
  const v = def.value;
  if (v.kind === 'unset') return (f) => f.macros.get(def.macro) === undefined;
  if (v.kind === 'regex') {
    const re = new RegExp(v.source, 'i');
    return (f) => {
      const got = f.macros.get(def.macro);
      return got !== undefined && re.test(got);
    };
  }
  // strcmp in milter-greylist: exact and case-sensitive.
  return (f) => f.macros.get(def.macro) === v.value;
}

interface Networks {
  readonly v4: BlockList;
  readonly v6: BlockList;
}

function networks(items: readonly Pattern[]): Networks {
  const v4 = new BlockList();
  const v6 = new BlockList();
  for (const p of items) {
    if (p.kind !== 'string') continue;
    const [ip = '', bits] = p.value.split('/');
    const four = isIPv4(ip);
    const list = four ? v4 : v6;
    const type = four ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(ip, type);
    else list.addSubnet(ip, Number(bits), type);
  }
  return { v4, v6 };
}

function inNetworks(nets: Networks, address: string): boolean {
  const v4 = asIPv4(address);
  if (v4 !== undefined) return nets.v4.check(v4, 'ipv4');
  try {
    return nets.v6.check(address, 'ipv6');
  } catch {
    return false;
  }
}

function compare(a: number, op: Comparison, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}
