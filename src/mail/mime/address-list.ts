/**
 * RFC 5322 address lists → ENVELOPE address tuples, tolerant of broken input the way Dovecot is
 * (src/lib-mail/message-address.c, behaviour reproduced, code written here): a group is a start
 * entry (mailbox = the group's display name, host null) and an end entry (all null); an address
 * without a local part or domain gets "MISSING_MAILBOX" / "MISSING_DOMAIN"; a broken <...> gets the
 * domain "SYNTAX_ERROR"; a comment after a bare addr-spec becomes its name. Names and local parts
 * stay raw (RFC 2047 words and 8-bit bytes untouched). Input and output are byte strings.
 */
import type { EnvelopeAddress } from './structure.js';
import { cursor, parseAtom, parseDomain, parsePhrase, parseQuotedString, skipLwsp, type Rfc822Cursor } from './rfc822-tokens.js';

interface Draft {
  name: string | null;
  route: string | null;
  mailbox: string | null;
  host: string | null;
  invalid: boolean;
}

interface Ctx {
  c: Rfc822Cursor;
  out: EnvelopeAddress[];
  addr: Draft;
  /** the text of the last local part or phrase read (Dovecot's shared string buffer) */
  str: string;
}

const empty = (): Draft => ({ name: null, route: null, mailbox: null, host: null, invalid: false });

function add(ctx: Ctx): void {
  const { name, route, mailbox, host } = ctx.addr;
  ctx.out.push({ name, route, mailbox, host });
  ctx.addr = empty();
}

function peek(ctx: Ctx): number {
  return ctx.c.s.charCodeAt(ctx.c.i);
}

function atEnd(ctx: Ctx): boolean {
  return ctx.c.i >= ctx.c.s.length;
}

/**
 * A dot-atom that tolerates leading, trailing and doubled dots ("two..dots@x"), as Dovecot's envelope
 * parser does (its non-strict-dots mode).
 */
function parseLooseDotAtom(c: Rfc822Cursor, out: string[]): -1 | 0 | 1 {
  let ret: -1 | 0 | 1 = -1;
  do {
    while (c.s.charCodeAt(c.i) === 0x2e) {
      out[0] += '.';
      c.i++;
      if (c.i >= c.s.length) return 0;
      ret = 1;
    }
    if (c.s.charCodeAt(c.i) === 0x40) break;
    ret = parseAtom(c, out);
  } while (ret > 0 && c.s.charCodeAt(c.i) === 0x2e);
  return ret;
}

function parseLocalPart(ctx: Ctx): -1 | 0 | 1 {
  const out = [''];
  const ret = peek(ctx) === 0x22 ? parseQuotedString(ctx.c, out) : parseLooseDotAtom(ctx.c, out);
  ctx.str = out[0] as string;
  if (ret < 0) return -1;
  ctx.addr.mailbox = ctx.str;
  return ret;
}

function parseDomainPart(ctx: Ctx): -1 | 0 | 1 {
  const out = [''];
  const ret = parseDomain(ctx.c, out);
  if (ret < 0) return -1;
  ctx.addr.host = out[0] as string;
  return ret;
}

/** obs-domain-list: "@a,@b" up to the ':' */
function parseDomainList(ctx: Ctx): -1 | 0 | 1 {
  let route = '';
  for (;;) {
    if (atEnd(ctx)) return 0;
    if (peek(ctx) !== 0x40) break;
    if (route.length > 0) route += ',';
    route += '@';
    const out = [''];
    const ret = parseDomain(ctx.c, out);
    route += out[0] as string;
    if (ret <= 0) return ret;
    while (skipLwsp(ctx.c) > 0 && peek(ctx) === 0x2c) ctx.c.i++;
  }
  ctx.addr.route = route;
  return 1;
}

function parseAngleAddr(ctx: Ctx): -1 | 0 | 1 {
  ctx.c.i++; // '<'
  if (skipLwsp(ctx.c) <= 0) return -1;
  if (peek(ctx) === 0x40) {
    if (parseDomainList(ctx) > 0 && peek(ctx) === 0x3a) ctx.c.i++;
    else {
      ctx.addr.route = 'INVALID_ROUTE';
      if (atEnd(ctx)) return -1;
      // and carry on
    }
    if (skipLwsp(ctx.c) <= 0) return -1;
  }
  if (peek(ctx) !== 0x3e) {
    // "<>" is let through with neither mailbox nor domain
    if (parseLocalPart(ctx) <= 0) return -1;
    if (peek(ctx) === 0x40 && parseDomainPart(ctx) <= 0) return -1;
  }
  if (peek(ctx) !== 0x3e) return -1;
  ctx.c.i++;
  return skipLwsp(ctx.c);
}

function parseNameAddr(ctx: Ctx): -1 | 0 | 1 {
  const out = [''];
  if (parsePhrase(ctx.c, out) <= 0 || peek(ctx) !== 0x3c) return -1;
  ctx.str = out[0] as string;
  ctx.addr.name = ctx.str === '' ? null : ctx.str;
  if (parseAngleAddr(ctx) < 0) {
    ctx.addr.host = 'SYNTAX_ERROR';
    ctx.addr.invalid = true;
  }
  return atEnd(ctx) ? 0 : 1;
}

function parseAddrSpec(ctx: Ctx): -1 | 0 | 1 {
  ctx.c.lastComment = '';
  const quoted = peek(ctx) === 0x22;
  let ret = parseLocalPart(ctx);
  let ret2: number = -2;
  if (ret <= 0) ctx.addr.invalid = true;
  if (ret !== 0 && !atEnd(ctx) && peek(ctx) === 0x40) {
    ret2 = parseDomainPart(ctx);
    if (ret2 <= 0) ret = ret2 as -1 | 0;
  }
  if (ctx.c.lastComment !== null && ctx.c.lastComment.length > 0) {
    ctx.addr.name = ctx.c.lastComment;
  } else if (ret2 === -2) {
    // a lone word: the mailbox, unless more words follow, then all of it is a display name
    const before = `${ctx.str} `;
    const out = [before];
    parsePhrase(ctx.c, out);
    if ((out[0] as string).length !== before.length) {
      ctx.addr.mailbox = null;
      ctx.addr.name = out[0] as string;
    } else if (!quoted) {
      ctx.addr.host = '';
    }
    ctx.addr.invalid = true;
    ret = -1;
  }
  return ret;
}

function addFixed(ctx: Ctx): void {
  if (ctx.addr.mailbox === null) ctx.addr.mailbox = 'MISSING_MAILBOX';
  if (ctx.addr.host === null || ctx.addr.host === '') ctx.addr.host = 'MISSING_DOMAIN';
  add(ctx);
}

function parseMailbox(ctx: Ctx): -1 | 0 | 1 {
  const start = ctx.c.i;
  let ret = parseNameAddr(ctx);
  if (ret < 0) {
    ctx.c.i = start;
    ret = parseAddrSpec(ctx);
    const a = ctx.addr;
    if (a.invalid && a.name === null && a.mailbox !== null && a.host === null) {
      a.name = a.mailbox;
      a.mailbox = null;
    }
  }
  addFixed(ctx);
  return ret;
}

function parseGroup(ctx: Ctx): -1 | 0 | 1 {
  const out = [''];
  if (parsePhrase(ctx.c, out) <= 0 || peek(ctx) !== 0x3a) return -1;
  ctx.c.i++;
  let ret = skipLwsp(ctx.c);
  ctx.addr.mailbox = out[0] as string;
  add(ctx);
  if (ret > 0 && peek(ctx) !== 0x3b) {
    for (;;) {
      parseMailbox(ctx); // a broken mailbox: carry on
      if (atEnd(ctx) || peek(ctx) !== 0x2c) break;
      ctx.c.i++;
      if (skipLwsp(ctx.c) <= 0) {
        ret = -1;
        break;
      }
    }
  }
  if (ret >= 0) {
    if (atEnd(ctx) || peek(ctx) !== 0x3b) ret = -1;
    else {
      ctx.c.i++;
      ret = skipLwsp(ctx.c);
    }
  }
  add(ctx);
  return ret === 0 ? 0 : 1;
}

function parseAddress(ctx: Ctx): -1 | 0 | 1 {
  const start = ctx.c.i;
  const ret = parseGroup(ctx);
  if (ret >= 0) return ret;
  ctx.c.i = start;
  return parseMailbox(ctx);
}

/** The addresses of one header value (byte string); null when it holds none. */
export function parseAddressList(value: string, maxAddresses = Number.MAX_SAFE_INTEGER): EnvelopeAddress[] | null {
  const ctx: Ctx = { c: cursor(value, true), out: [], addr: empty(), str: '' };
  if (skipLwsp(ctx.c) <= 0) return null;
  let left = maxAddresses;
  while (left-- > 0) {
    if (parseAddress(ctx) === 0) break;
    if (atEnd(ctx) || peek(ctx) !== 0x2c) break;
    ctx.c.i++;
    const ret = skipLwsp(ctx.c);
    if (ret <= 0) {
      if (ret < 0) addFixed(ctx);
      break;
    }
  }
  return ctx.out.length > 0 ? ctx.out : null;
}
