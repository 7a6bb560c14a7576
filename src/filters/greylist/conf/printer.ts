/**
 * Prints a parsed greylist.conf back in milter-greylist syntax (for `mailgate show-config`-style
 * output and the parse → print → parse round-trip test). Daemon statements that were ignored are
 * not printed.
 */
import { CONF_DEFAULTS, type Acl, type Clause, type GreylistConf, type Pattern } from './ast.js';
import { FLAG_KEYWORDS } from './keywords.js';
import { formatSeconds } from './time.js';

export function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function printPattern(p: Pattern | { readonly kind: 'unset' }): string {
  if (p.kind === 'unset') return 'unset';
  if (p.kind === 'regex') return `/${p.source.replace(/\//g, '\\/')}/`;
  return quote(p.value);
}

function printAddr(p: Pattern): string {
  return p.kind === 'string' ? p.value : printPattern(p);
}

function printValues(kind: string, values: readonly Pattern[]): string {
  const one = kind === 'addr' ? printAddr : printPattern;
  if (values.length === 1) return one(values[0] as Pattern);
  return `{ ${values.map(one).join(' ')} }`;
}

export function printClause(c: Clause): string {
  switch (c.kind) {
    case 'default':
      return 'default';
    case 'not':
      return `not ${printClause(c.clause)}`;
    case 'sm_macro':
    case 'list':
      return `${c.kind} ${quote(c.name)}`;
    case 'spf':
      return `spf ${c.result}`;
    case 'msgsize':
    case 'rcptcount':
      return `${c.kind} ${c.op} ${c.written}`;
    default:
      return `${c.kind} ${printValues(c.kind, c.values)}`;
  }
}

export function printAcl(a: Acl): string {
  const parts: string[] = [a.keyword];
  if (a.id !== undefined) parts.push(quote(a.id));
  parts.push(a.action, ...a.clauses.map(printClause));
  if (a.delay !== undefined) parts.push('delay', formatSeconds(a.delay));
  if (a.autowhite !== undefined) parts.push('autowhite', formatSeconds(a.autowhite));
  if (a.code !== undefined) parts.push('code', quote(a.code));
  if (a.ecode !== undefined) parts.push('ecode', quote(a.ecode));
  if (a.msg !== undefined) parts.push('msg', quote(a.msg));
  if (a.report !== undefined) parts.push('report', quote(a.report));
  return parts.join(' ');
}

export function printGreylistConf(conf: GreylistConf): string {
  const out: string[] = [];
  if (conf.subnetmatch !== CONF_DEFAULTS.subnetmatch) out.push(`subnetmatch /${conf.subnetmatch}`);
  if (conf.subnetmatch6 !== CONF_DEFAULTS.subnetmatch6) out.push(`subnetmatch6 /${conf.subnetmatch6}`);
  if (conf.greylist !== CONF_DEFAULTS.greylist) out.push(`greylist ${formatSeconds(conf.greylist)}`);
  if (conf.autowhite !== CONF_DEFAULTS.autowhite) out.push(`autowhite ${formatSeconds(conf.autowhite)}`);
  if (conf.timeout !== CONF_DEFAULTS.timeout) out.push(`timeout ${formatSeconds(conf.timeout)}`);
  if (conf.report !== CONF_DEFAULTS.report) out.push(`report ${conf.report}`);
  for (const f of FLAG_KEYWORDS) if (conf.flags[f]) out.push(f);
  for (const m of conf.macros) out.push(`sm_macro ${quote(m.name)} ${quote(m.macro)} ${printPattern(m.value)}`);
  for (const l of conf.lists) {
    out.push(`list ${quote(l.name)} ${l.type} { ${l.items.map(l.type === 'addr' ? printAddr : printPattern).join(' ')} }`);
  }
  for (const a of conf.acls) out.push(printAcl(a));
  return out.join('\n') + '\n';
}
