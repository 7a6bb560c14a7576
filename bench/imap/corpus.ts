/**
 * bench:imap's mailbox: a deterministic, seeded generator of N messages (~7 KB mean: 60 % text/plain,
 * 30 % multipart/alternative, 10 % multipart/mixed with a 20–40 KB base64 attachment), written once as a
 * Maildir (LF line ends, names `<secs>.M<usecs>Q<id>R<hash>.<host>,S=<size>,W=<vsize>` as the delivery
 * writes them, mtime = the internal date) into a cache directory that both servers get a hard-linked copy
 * of. Two planted words give SEARCH known answers: SUBJECT_WORD in 1 % of subjects, BODY_WORD in 0.5 % of
 * bodies (both absent from the filler vocabulary, so the count printed is the count expected).
 * Older messages are in cur/ with flags (mostly \Seen), the newest 2 % in new/, as in a real INBOX.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const SUBJECT_WORD = 'quarterlyreport';
export const BODY_WORD = 'marmalade';
export const CORPUS_HOST = 'bench.example';
/** 2024-01-01T00:00:00Z: the first message's internal date; each next one 3–9 minutes later. */
const START_SECS = 1_704_067_200;

/** mulberry32: small, fast, and the same sequence everywhere for a seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'to', 'vi', 'de', 'fo', 'ga', 'hu', 'ji', 'be', 'po', 'qu', 'ze', 'wa', 'xo', 'yi', 'an', 'el', 'or', 'is'];

/** 4,000 pseudo-words of 2–4 syllables (none is a planted word: those hold letters no syllable has in order). */
function vocabulary(): readonly string[] {
  const next = rng(7);
  const words = new Set<string>();
  while (words.size < 4000) {
    const n = 2 + Math.floor(next() * 3);
    let w = '';
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(next() * SYLLABLES.length)];
    if (!w.includes(SUBJECT_WORD) && !w.includes(BODY_WORD)) words.add(w);
  }
  return [...words];
}
const WORDS = vocabulary();
const FIRST = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan', 'Judy', 'Mallory', 'Niaj', 'Olivia', 'Peggy', 'Rupert', 'Sybil', 'Trent', 'Victor', 'Walter', 'Zoë'];
const LAST = ['Smith', 'Jones', 'Müller', 'García', 'Rossi', 'Dubois', 'Nowak', 'Svensson', 'Tanaka', 'Okafor'];
const DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example', 'lists.example.org', 'corp.example'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface CorpusMessage {
  /** The message, LF line ends (as the delivery stores it). */
  readonly bytes: Buffer;
  /** Internal date, seconds since the epoch (the file's mtime). */
  readonly secs: number;
  readonly usecs: number;
  /** The Maildir name's unique base. */
  readonly base: string;
  /** cur/ with this info (`2,S`), or new/ when undefined. */
  readonly info: string | undefined;
}

function rfc2822Date(secs: number): string {
  const d = new Date(secs * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Lines of ~72 characters of filler words, about `bytes` long, `planted` inserted once if given. */
function paragraphs(next: () => number, bytes: number, planted?: string): string {
  const lines: string[] = [];
  let size = 0;
  let line = '';
  const plantAt = planted === undefined ? -1 : Math.floor(next() * bytes);
  let plantedDone = false;
  while (size < bytes) {
    let w = WORDS[Math.floor(next() * WORDS.length)]!;
    if (!plantedDone && plantAt >= 0 && size + line.length >= plantAt) {
      w = planted!;
      plantedDone = true;
    }
    if (line.length + w.length + 1 > 72) {
      lines.push(line);
      size += line.length + 1;
      line = '';
      if (next() < 0.12) {
        lines.push('');
        size += 1;
      }
    }
    line = line === '' ? w : `${line} ${w}`;
  }
  if (line !== '') lines.push(line);
  if (!plantedDone && planted !== undefined) lines.push(planted);
  return lines.join('\n');
}

function base64Lines(next: () => number, bytes: number): string {
  const raw = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i += 4) raw.writeUInt32LE(Math.floor(next() * 4294967296), Math.min(i, bytes - 4));
  const b64 = raw.toString('base64');
  const out: string[] = [];
  for (let i = 0; i < b64.length; i += 76) out.push(b64.slice(i, i + 76));
  return out.join('\n');
}

function person(next: () => number): { name: string; addr: string } {
  const first = FIRST[Math.floor(next() * FIRST.length)]!;
  const last = LAST[Math.floor(next() * LAST.length)]!;
  const domain = DOMAINS[Math.floor(next() * DOMAINS.length)]!;
  const ascii = (s: string) => s.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase();
  return { name: `${first} ${last}`, addr: `${ascii(first)}.${ascii(last)}@${domain}` };
}

/** RFC 2047 for a display name or subject that is not ASCII. */
function encodedWord(s: string): string {
  return /^[\x20-\x7e]*$/.test(s) ? s : `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
}

/** Message `i` of the corpus of `seed` to `rcpt`: the same bytes every time. */
export function corpusMessage(seed: number, i: number, n: number, rcpt: string): CorpusMessage {
  const next = rng((seed * 1_000_003 + i * 7919) >>> 0);
  const secs = START_SECS + i * 360 + Math.floor(next() * 120);
  const usecs = Math.floor(next() * 1_000_000);
  const from = person(next);
  const kind = next();
  const subjectWords = 3 + Math.floor(next() * 6);
  const subj: string[] = [];
  for (let k = 0; k < subjectWords; k++) subj.push(WORDS[Math.floor(next() * WORDS.length)]!);
  if (i % 100 === 37) subj.splice(Math.floor(next() * subj.length), 0, SUBJECT_WORD);
  let subject = subj.join(' ');
  if (next() < 0.2) subject = `Re: ${subject}`;
  if (next() < 0.05) subject = `${subject} — Grüße`;
  const bodyPlant = i % 200 === 11 ? BODY_WORD : undefined;
  const msgId = `<${secs.toString(36)}.${i.toString(36)}.${Math.floor(next() * 1e9).toString(36)}@${from.addr.split('@')[1]}>`;
  const textBytes = 2000 + Math.floor(next() * 4000);
  const head = [
    `Return-Path: <${from.addr}>`,
    `Delivered-To: ${rcpt}`,
    `Received: from mx.${from.addr.split('@')[1]} (mx.${from.addr.split('@')[1]} [192.0.2.${1 + (i % 250)}])`,
    `\tby ${CORPUS_HOST} (Mailgate) with ESMTPS id Q${i.toString(16).toUpperCase()}`,
    `\tfor <${rcpt}>; ${rfc2822Date(secs)}`,
    `Date: ${rfc2822Date(secs - 5)}`,
    `From: ${encodedWord(from.name)} <${from.addr}>`,
    `To: Bench User <${rcpt}>`,
    ...(next() < 0.3 ? [`Cc: ${person(next).addr}, ${person(next).addr}`] : []),
    `Subject: ${encodedWord(subject)}`,
    `Message-ID: ${msgId}`,
    ...(subject.startsWith('Re: ') ? [`In-Reply-To: <${(secs - 86400).toString(36)}.x@${from.addr.split('@')[1]}>`] : []),
    'MIME-Version: 1.0',
  ];
  let body: string;
  if (kind < 0.6) {
    head.push('Content-Type: text/plain; charset=utf-8; format=flowed', 'Content-Transfer-Encoding: 8bit');
    body = paragraphs(next, textBytes, bodyPlant);
  } else if (kind < 0.9) {
    const b = `=_alt_${i.toString(36)}`;
    const text = paragraphs(next, textBytes / 2, bodyPlant);
    const html = `<html><body><p>${text.split('\n\n').join('</p>\n<p>')}</p></body></html>`;
    head.push(`Content-Type: multipart/alternative; boundary="${b}"`);
    body = [
      `--${b}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      text,
      `--${b}`,
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      html,
      `--${b}--`,
    ].join('\n');
  } else {
    const b = `=_mix_${i.toString(36)}`;
    // 15–30 KB of data: 20–40 KB once in base64.
    const attachment = base64Lines(next, 15_000 + Math.floor(next() * 15_000));
    const name = `report-${i}.pdf`;
    head.push(`Content-Type: multipart/mixed; boundary="${b}"`);
    body = [
      'This is a multi-part message in MIME format.',
      `--${b}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      paragraphs(next, textBytes / 3, bodyPlant),
      `--${b}`,
      `Content-Type: application/pdf; name="${name}"`,
      'Content-Transfer-Encoding: base64',
      `Content-Disposition: attachment; filename="${name}"`,
      '',
      attachment,
      `--${b}--`,
    ].join('\n');
  }
  const bytes = Buffer.from(`${head.join('\n')}\n\n${body}\n`, 'utf8');
  const base = `${secs}.M${usecs}Q${(0x100000 + i).toString(16).toUpperCase()}R${(seed >>> 0).toString(16).padStart(8, '0')}0000.${CORPUS_HOST}`;
  // The newest 2 % are unread in new/; the rest read, some answered or flagged.
  const r = next();
  const info = i >= n - Math.ceil(n / 50) ? undefined : `2,${r < 0.03 ? 'F' : ''}${r > 0.94 ? 'R' : ''}S`;
  return { bytes, secs, usecs, base, info };
}

/** Lines of `bytes` (LF): W= is the size with CRLF line ends. */
function lineCount(bytes: Buffer): number {
  let n = 0;
  for (let p = bytes.indexOf(10); p !== -1; p = bytes.indexOf(10, p + 1)) n++;
  return n;
}

export interface Corpus {
  readonly dir: string;
  readonly messages: number;
  readonly bytes: number;
}

/**
 * The Maildir of `n` messages under `cacheDir`, written on first use (into a temp name, renamed when
 * whole, so an interrupted run never leaves a half corpus behind).
 */
export async function ensureCorpus(cacheDir: string, seed: number, n: number, rcpt: string, progress: (s: string) => void): Promise<Corpus> {
  const dir = join(cacheDir, `corpus-s${seed}-n${n}`);
  // The marker sits beside the Maildir, not in it: the servers get a copy of the Maildir alone.
  const done = `${dir}.complete`;
  if (existsSync(done)) return { dir, messages: n, bytes: Number(readFileSync(done, 'utf8').trim()) };
  const tmp = `${dir}.partial-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(tmp, sub), { recursive: true, mode: 0o755 });
  let total = 0;
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const m = corpusMessage(seed, i, n, rcpt);
    const name = `${m.base},S=${m.bytes.length},W=${m.bytes.length + lineCount(m.bytes)}`;
    const path = join(tmp, m.info === undefined ? 'new' : 'cur', m.info === undefined ? name : `${name}:${m.info}`);
    await writeFile(path, m.bytes, { mode: 0o644 });
    const t = m.secs + m.usecs / 1e6;
    await utimes(path, t, t);
    total += m.bytes.length;
    if ((i + 1) % 10_000 === 0) progress(`corpus: ${i + 1}/${n} messages (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  await writeFile(done, `${total}\n`);
  return { dir, messages: n, bytes: total };
}
