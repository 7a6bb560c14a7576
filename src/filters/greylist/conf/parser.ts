/**
 * greylist.conf parser (milter-greylist's conf_yacc.y semantics, line-oriented): global settings,
 * `sm_macro` and `list` definitions, `racl`/`dacl`/`acl` entries. Any error is a GreylistConfError
 * (a ConfigError) naming the file, line, column and offending token; nothing else is thrown.
 */
import { isIP } from 'node:net';
import {
  CONF_DEFAULTS,
  NO_FLAGS,
  type Acl,
  type AclAction,
  type Clause,
  type Comparison,
  type ConfFlags,
  type GreylistConf,
  type ListDefinition,
  type ListType,
  type MacroDefinition,
  type Pattern,
  type ReportMode,
  type SpfWanted,
} from './ast.js';
import { DATA_CLAUSES, FLAG_KEYWORDS, IGNORED_STATEMENTS, SPF_RESULTS, UNSUPPORTED_CLAUSES } from './keywords.js';
import { tokenize } from './lexer.js';
import { describeToken, GreylistConfError, type ConfSource } from './source.js';
import { parseSeconds, parseSize } from './time.js';
import type { Token } from './tokens.js';

const LIST_TYPES: readonly ListType[] = ['addr', 'from', 'rcpt', 'domain', 'helo'];
const ACTIONS: readonly AclAction[] = ['whitelist', 'greylist', 'blacklist', 'continue'];
const REPORTS: readonly ReportMode[] = ['none', 'delays', 'nodelays', 'all'];
const COMPARISONS: readonly Comparison[] = ['<=', '>=', '==', '!=', '<', '>'];

export function parseGreylistConf(text: string, source: ConfSource): GreylistConf {
  return new Parser(tokenize(text, source), source).run();
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Keyword as milter-greylist matches it: case-insensitive, an optional trailing colon. */
function keyword(t: Token): string {
  return t.kind === 'word' ? t.value.toLowerCase().replace(/:$/, '') : '';
}

class Parser {
  private i = 0;
  private readonly conf: Mutable<Omit<GreylistConf, 'flags' | 'macros' | 'lists' | 'acls' | 'notes'>> = { ...CONF_DEFAULTS };
  private readonly flags: Mutable<ConfFlags> = { ...NO_FLAGS };
  private readonly macros = new Map<string, MacroDefinition>();
  private readonly lists = new Map<string, ListDefinition>();
  private readonly acls: Acl[] = [];
  private readonly notes: { line: number; text: string }[] = [];

  constructor(
    private readonly tokens: readonly Token[],
    private readonly source: ConfSource,
  ) {}

  run(): GreylistConf {
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') break;
      if (t.kind === 'eol') {
        this.i++;
        continue;
      }
      this.statement();
    }
    return {
      ...this.conf,
      flags: { ...this.flags },
      macros: [...this.macros.values()],
      lists: [...this.lists.values()],
      acls: this.acls,
      notes: this.notes,
    };
  }

  // --- token helpers ---------------------------------------------------------------------------

  private peek(): Token {
    return this.tokens[this.i] as Token;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private fail(t: Token, reason: string): never {
    throw new GreylistConfError(reason, this.source, t.line, t.column, t.raw);
  }

  private unexpected(t: Token, expected: string): never {
    return this.fail(t, `unexpected ${describeToken(t.raw || (t.kind === 'eol' ? '\n' : ''))}, expected ${expected}`);
  }

  private atEnd(): boolean {
    const k = this.peek().kind;
    return k === 'eol' || k === 'eof';
  }

  private endOfStatement(): void {
    const t = this.peek();
    if (t.kind === 'eol') this.i++;
    else if (t.kind !== 'eof') this.unexpected(t, 'the end of the line');
  }

  private quoted(what: string): string {
    const t = this.next();
    if (t.kind !== 'string') this.unexpected(t, what);
    return t.value;
  }

  /** A string or a bare word (milter-greylist accepts both for codes and messages). */
  private text(what: string): string {
    const t = this.next();
    if (t.kind !== 'string' && t.kind !== 'word') this.unexpected(t, what);
    return t.value;
  }

  private seconds(what: string, min = 0): number {
    const t = this.next();
    const s = t.kind === 'word' ? parseSeconds(t.value) : undefined;
    if (s === undefined) this.unexpected(t, `${what} (a time such as 30s, 10m, 2h, 5d or 1w)`);
    if (s < min) this.fail(t, `${what} must be at least ${min}, got ${t.raw}`);
    return s;
  }

  // --- statements ------------------------------------------------------------------------------

  private statement(): void {
    const t = this.next();
    if (t.kind !== 'word') this.unexpected(t, 'a keyword');
    const kw = keyword(t);
    switch (kw) {
      case 'subnetmatch':
        this.conf.subnetmatch = this.prefix(32);
        return this.endOfStatement();
      case 'subnetmatch6':
        this.conf.subnetmatch6 = this.prefix(128);
        return this.endOfStatement();
      case 'greylist':
        this.conf.greylist = this.seconds('the greylist delay');
        return this.endOfStatement();
      case 'autowhite':
        this.conf.autowhite = this.seconds('the autowhite period');
        return this.endOfStatement();
      case 'timeout':
        this.conf.timeout = this.seconds('the pending timeout');
        return this.endOfStatement();
      case 'report': {
        const r = this.next();
        if (!(REPORTS as readonly string[]).includes(keyword(r))) this.unexpected(r, REPORTS.join(', '));
        this.conf.report = keyword(r) as ReportMode;
        return this.endOfStatement();
      }
      case 'sm_macro':
        return this.macroDefinition(t);
      case 'list':
        return this.listDefinition(t);
      case 'racl':
      case 'dacl':
      case 'acl':
        return this.acl(t, kw);
    }
    if ((FLAG_KEYWORDS as readonly string[]).includes(kw)) {
      this.flags[kw as keyof ConfFlags] = true;
      return this.endOfStatement();
    }
    const why = Object.hasOwn(IGNORED_STATEMENTS, kw) ? IGNORED_STATEMENTS[kw] : undefined;
    if (why !== undefined) {
      this.notes.push({ line: t.line, text: `"${t.value}" ignored: ${why}` });
      return this.skipStatement();
    }
    this.fail(t, `unknown keyword ${describeToken(t.raw)}`);
  }

  /** Skips the rest of an ignored statement, including a `{ ... }` block over several lines. */
  private skipStatement(): void {
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') {
        if (depth > 0) this.unexpected(t, '"}"');
        return;
      }
      this.i++;
      if (t.kind === 'lbrace') depth++;
      else if (t.kind === 'rbrace') depth = Math.max(0, depth - 1);
      else if (t.kind === 'eol' && depth === 0) return;
    }
  }

  private prefix(max: number): number {
    const t = this.next();
    const m = t.kind === 'word' ? /^\/(\d{1,3})$/.exec(t.value) : null;
    if (m === null) this.unexpected(t, `a prefix length such as /${max === 32 ? 24 : 64}`);
    const n = Number(m[1]);
    if (n > max) this.fail(t, `prefix length must be 0 to ${max}, got ${t.raw}`);
    return n;
  }

  private macroDefinition(start: Token): void {
    const nameTok = this.peek();
    const name = this.quoted('the macro definition name in quotes');
    if (this.macros.has(name)) this.fail(nameTok, `sm_macro "${name}" is defined twice`);
    const macro = this.quoted('the MTA macro name in quotes, e.g. "{trusted_domain}"');
    const v = this.next();
    let value: MacroDefinition['value'];
    if (v.kind === 'string') value = { kind: 'string', value: v.value };
    else if (v.kind === 'regex') value = this.regex(v);
    else if (keyword(v) === 'unset') value = { kind: 'unset' };
    else this.unexpected(v, 'a "value", a /regex/ or unset');
    void start;
    this.macros.set(name, { name, macro, value });
    this.endOfStatement();
  }

  private listDefinition(start: Token): void {
    const nameTok = this.peek();
    const name = this.quoted('the list name in quotes');
    if (this.lists.has(name)) this.fail(nameTok, `list "${name}" is defined twice`);
    const typeTok = this.next();
    const type = keyword(typeTok);
    if (!(LIST_TYPES as readonly string[]).includes(type)) this.unexpected(typeTok, `a list type (${LIST_TYPES.join(', ')})`);
    const items = this.braceItems(type as ListType);
    void start;
    this.lists.set(name, { name, type: type as ListType, items });
    this.endOfStatement();
  }

  /** `{ item item ... }`, items over any number of lines. */
  private braceItems(type: ListType): Pattern[] {
    const open = this.next();
    if (open.kind !== 'lbrace') this.unexpected(open, '"{"');
    const items: Pattern[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eol') {
        this.i++;
        continue;
      }
      if (t.kind === 'rbrace') {
        this.i++;
        return items;
      }
      if (t.kind === 'eof') this.unexpected(t, '"}"');
      items.push(this.item(type));
    }
  }

  /** One value of an addr/from/rcpt/domain/helo clause or list. */
  private item(type: ListType | 'auth' | 'tls' | 'header' | 'body'): Pattern {
    const t = this.next();
    if (type === 'addr') {
      if (t.kind !== 'word' && t.kind !== 'string') this.unexpected(t, 'an IP address or network (192.0.2.0/24, 2001:db8::/32)');
      return { kind: 'string', value: this.network(t) };
    }
    if (t.kind === 'regex') return this.regex(t);
    if (t.kind === 'string' || t.kind === 'word') return { kind: 'string', value: t.value };
    return this.unexpected(t, `a ${type} value ("string" or /regex/)`);
  }

  private network(t: Token): string {
    const [ip = '', bits, extra] = t.value.split('/');
    const family = isIP(ip);
    const max = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > max))) {
      this.fail(t, `${describeToken(t.raw)} is not an IP address or network`);
    }
    return bits === undefined ? ip : `${ip}/${Number(bits)}`;
  }

  private regex(t: Token): Pattern {
    try {
      new RegExp(t.value, 'i');
    } catch (err) {
      this.fail(t, `invalid regular expression: ${(err as Error).message}`);
    }
    return { kind: 'regex', source: t.value };
  }

  // --- ACLs ------------------------------------------------------------------------------------

  private acl(start: Token, kw: 'racl' | 'dacl' | 'acl'): void {
    const stage = kw === 'dacl' ? 'data' : 'rcpt';
    let id: string | undefined;
    if (this.peek().kind === 'string') id = this.next().value;
    const actionTok = this.next();
    const action = keyword(actionTok);
    if (!(ACTIONS as readonly string[]).includes(action)) this.unexpected(actionTok, ACTIONS.join(', '));
    const acl: Mutable<Acl> = { stage, keyword: kw, action: action as AclAction, clauses: [], line: start.line };
    if (id !== undefined) acl.id = id;
    const clauses: Clause[] = [];
    while (!this.atEnd()) {
      const t = this.peek();
      const k = keyword(t);
      if (this.setting(acl, k)) continue;
      clauses.push(this.clause(stage));
    }
    if (clauses.length === 0) this.unexpected(this.peek(), 'a clause (default, addr, from, rcpt, domain, helo, sm_macro, spf, ...)');
    acl.clauses = clauses;
    this.acls.push(acl);
    this.endOfStatement();
  }

  /** Per-ACL values (delay, autowhite, code, ecode, msg, report, nolog); true when one was read. */
  private setting(acl: Mutable<Acl>, k: string): boolean {
    switch (k) {
      case 'delay':
        this.i++;
        acl.delay = this.seconds('the delay');
        return true;
      case 'autowhite':
        this.i++;
        acl.autowhite = this.seconds('the autowhite period');
        return true;
      case 'code': {
        this.i++;
        const t = this.peek();
        const code = this.text('an SMTP code such as "451"');
        if (!/^[245]\d\d$/.test(code)) this.fail(t, `${describeToken(t.raw)} is not an SMTP reply code`);
        acl.code = code;
        return true;
      }
      case 'ecode': {
        this.i++;
        const t = this.peek();
        const ecode = this.text('an enhanced status code such as "4.7.1"');
        if (!/^[245]\.\d{1,3}\.\d{1,3}$/.test(ecode)) this.fail(t, `${describeToken(t.raw)} is not an enhanced status code`);
        acl.ecode = ecode;
        return true;
      }
      case 'msg':
        this.i++;
        acl.msg = this.quoted('the reply text in quotes');
        return true;
      case 'report':
        this.i++;
        acl.report = this.quoted('the X-Greylist text in quotes');
        return true;
      case 'nolog':
        this.i++;
        return true;
      default:
        return false;
    }
  }

  private clause(stage: 'rcpt' | 'data'): Clause {
    const t = this.next();
    if (t.kind !== 'word') this.unexpected(t, 'a clause');
    const k = t.value === '!' ? 'not' : keyword(t);
    if (DATA_CLAUSES.has(k) && stage === 'rcpt') this.fail(t, `the ${k} clause needs the message: use it in a dacl`);
    switch (k) {
      case 'not':
      case 'no':
        if (this.atEnd()) this.unexpected(this.peek(), 'a clause after "not"');
        return { kind: 'not', clause: this.clause(stage) };
      case 'default':
        return { kind: 'default' };
      case 'addr':
      case 'from':
      case 'rcpt':
      case 'domain':
      case 'helo':
        return { kind: k, values: this.peek().kind === 'lbrace' ? this.braceItems(k) : [this.item(k)] };
      case 'auth':
      case 'tls':
      case 'header':
      case 'body':
        return { kind: k, values: [this.item(k)] };
      case 'sm_macro': {
        const nameTok = this.peek();
        const name = this.quoted('the sm_macro definition name in quotes');
        if (!this.macros.has(name)) this.fail(nameTok, `sm_macro "${name}" is not defined (define it before the ACL)`);
        return { kind: 'sm_macro', name };
      }
      case 'list': {
        const nameTok = this.peek();
        const name = this.quoted('the list name in quotes');
        if (!this.lists.has(name)) this.fail(nameTok, `list "${name}" is not defined (define it before the ACL)`);
        return { kind: 'list', name };
      }
      case 'spf': {
        const r = keyword(this.peek());
        if ((SPF_RESULTS as readonly string[]).includes(r)) {
          if (r === 'self') this.fail(this.peek(), 'spf self is not supported by Mailgate\'s greylist');
          this.i++;
          return { kind: 'spf', result: r as SpfWanted };
        }
        return { kind: 'spf', result: 'pass' };
      }
      case 'msgsize':
      case 'rcptcount':
        return this.comparison(k);
    }
    if (UNSUPPORTED_CLAUSES.has(k)) this.fail(t, `the ${k} clause is not supported by Mailgate's greylist`);
    return this.unexpected(t, 'a clause (default, addr, from, rcpt, domain, helo, sm_macro, list, spf, auth, tls, not, ...)');
  }

  private comparison(kind: 'msgsize' | 'rcptcount'): Clause {
    const t = this.next();
    let op: Comparison | undefined;
    let rest = '';
    if (t.kind === 'word') {
      op = COMPARISONS.find((c) => t.value.startsWith(c));
      rest = op === undefined ? '' : t.value.slice(op.length);
    }
    if (op === undefined) this.unexpected(t, 'a comparison (<, <=, >, >=, ==, !=)');
    let valueTok = t;
    if (rest === '') {
      valueTok = this.next();
      rest = valueTok.kind === 'word' ? valueTok.value : '';
    }
    const value = kind === 'msgsize' ? parseSize(rest) : /^\d+$/.test(rest) ? Number(rest) : undefined;
    if (value === undefined || !Number.isSafeInteger(value)) {
      this.unexpected(valueTok, kind === 'msgsize' ? 'a size such as 100k or 2M' : 'a number of recipients');
    }
    return { kind, op, value, written: rest };
  }
}
