/**
 * The `:2,` info part of a Maildir file name ↔ flags, as Dovecot reads and writes it: uppercase letters are
 * system flags (D \Draft, F \Flagged, R \Answered, S \Seen, T \Deleted), lowercase a–z are keywords through
 * the mailbox's dovecot-keywords file (a = index 0). Letters Dovecot does not map (P "passed", other capitals,
 * digits) are kept so that writing the name back does not drop someone else's flag. Letters are written in
 * ASCII order, as the Maildir spec asks. Also the base name (everything before ':') and the S=/W= sizes a
 * name may carry.
 */

/** The system flags a name can carry (named apart from mailbox-store.ts's SYSTEM_FLAGS, a list of Flag strings). */
export const MAILDIR_SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'] as const;
export type SystemFlag = (typeof MAILDIR_SYSTEM_FLAGS)[number];

/** Bits for an index's integer column, Dovecot's own values (MAIL_ANSWERED = 1 ... MAIL_DRAFT = 16). */
export const FLAG_BITS: Readonly<Record<SystemFlag, number>> = {
  '\\Answered': 1,
  '\\Flagged': 2,
  '\\Deleted': 4,
  '\\Seen': 8,
  '\\Draft': 16,
};

const LETTER_OF: Readonly<Record<SystemFlag, string>> = {
  '\\Answered': 'R',
  '\\Flagged': 'F',
  '\\Deleted': 'T',
  '\\Seen': 'S',
  '\\Draft': 'D',
};
const FLAG_OF_LETTER: ReadonlyMap<string, SystemFlag> = new Map(MAILDIR_SYSTEM_FLAGS.map((f) => [LETTER_OF[f], f] as const));

/** The info part's separator (Dovecot's maildir default) and the flags version. */
export const INFO_SEPARATOR = ':';
const INFO_PREFIX = '2,';
/** Never a flag letter: a path separator, the info separator, the field separator. */
const NOT_FLAGS = [',', '/', INFO_SEPARATOR];

export interface MaildirFlags {
  /** Bitmask of FLAG_BITS. */
  readonly system: number;
  /** Keyword letters, a–z, each once, in order ('' when none). */
  readonly keywords: string;
  /** Other characters of the info that are neither (e.g. 'P'), each once, in ASCII order; '' when none. */
  readonly other: string;
}

export const NO_FLAGS: MaildirFlags = { system: 0, keywords: '', other: '' };

/** `name` split at its first ':': the base (with ,S= ,W= fields) and the info part after the ':' (if any). */
export function splitMaildirFileName(fileName: string): { readonly base: string; readonly info: string | undefined } {
  const at = fileName.indexOf(INFO_SEPARATOR);
  return at === -1 ? { base: fileName, info: undefined } : { base: fileName.slice(0, at), info: fileName.slice(at + 1) };
}

/** The base of a file name (everything before ':'): the message's identity across flag changes. */
export function maildirBase(fileName: string): string {
  return splitMaildirFileName(fileName).base;
}

/**
 * Flags of an info part (undefined or not "2,...": none; a "1," experimental info carries none either). A
 * letter given twice counts once.
 */
export function parseMaildirInfo(info: string | undefined): MaildirFlags {
  if (info === undefined || !info.startsWith(INFO_PREFIX)) return NO_FLAGS;
  // A folder has few distinct info parts ("2,S", "2,RS"...): a scan of 100,000 names parses each once.
  let parsed = parsedInfos.get(info);
  if (parsed === undefined) {
    parsed = Object.freeze(parseInfo(info));
    if (parsedInfos.size >= PARSED_INFOS_KEPT) parsedInfos.clear();
    parsedInfos.set(info, parsed);
  }
  return parsed;
}

const PARSED_INFOS_KEPT = 1024;
const parsedInfos = new Map<string, MaildirFlags>();

function parseInfo(info: string): MaildirFlags {
  let system = 0;
  const keywords = new Set<string>();
  const other = new Set<string>();
  for (const ch of info.slice(INFO_PREFIX.length)) {
    const flag = FLAG_OF_LETTER.get(ch);
    if (flag !== undefined) system |= FLAG_BITS[flag];
    else if (ch >= 'a' && ch <= 'z') keywords.add(ch);
    else if (!NOT_FLAGS.includes(ch)) other.add(ch);
  }
  return { system, keywords: [...keywords].sort().join(''), other: [...other].sort().join('') };
}

/** The info part for `flags`: "2," and every letter in ASCII order ("2,FSab"). */
export function formatMaildirInfo(flags: MaildirFlags): string {
  const letters = new Set<string>();
  for (const f of MAILDIR_SYSTEM_FLAGS) if ((flags.system & FLAG_BITS[f]) !== 0) letters.add(LETTER_OF[f]);
  for (const ch of flags.keywords) if (ch >= 'a' && ch <= 'z') letters.add(ch);
  for (const ch of flags.other) if (!NOT_FLAGS.includes(ch)) letters.add(ch);
  return INFO_PREFIX + [...letters].sort().join('');
}

/** `<base>:2,<letters>`: the name in cur/ for a message with these flags. */
export function maildirFileName(base: string, flags: MaildirFlags): string {
  return `${base}${INFO_SEPARATOR}${formatMaildirInfo(flags)}`;
}

/** System flags of a bitmask, in MAILDIR_SYSTEM_FLAGS order. */
export function systemFlagsOf(bits: number): SystemFlag[] {
  return MAILDIR_SYSTEM_FLAGS.filter((f) => (bits & FLAG_BITS[f]) !== 0);
}

/** The bitmask of the system flags among `flags` (case-insensitive, as IMAP flags are); others ignored. */
export function systemFlagBits(flags: Iterable<string>): number {
  let bits = 0;
  for (const f of flags) {
    const match = MAILDIR_SYSTEM_FLAGS.find((s) => s.toLowerCase() === f.toLowerCase());
    if (match !== undefined) bits |= FLAG_BITS[match];
  }
  return bits;
}

/** The keyword letter for a dovecot-keywords index (0 → 'a' ... 25 → 'z'); undefined past 25. */
export function keywordLetter(index: number): string | undefined {
  return Number.isInteger(index) && index >= 0 && index < 26 ? String.fromCharCode(0x61 + index) : undefined;
}

/** The dovecot-keywords index of a keyword letter ('a' → 0), undefined for anything else. */
export function keywordIndex(letter: string): number | undefined {
  return letter.length === 1 && letter >= 'a' && letter <= 'z' ? letter.charCodeAt(0) - 0x61 : undefined;
}

/**
 * The S= (size on disk) and W= (size with CRLF line ends) fields of a base, as Dovecot finds them: a ',S='
 * or ',W=' anywhere after the first character, followed by digits. Absent or malformed: undefined (the
 * caller stats or reads the file, as Dovecot does for foreign names).
 */
export function maildirNameSizes(fileName: string): { readonly size: number | undefined; readonly vsize: number | undefined } {
  const at = fileName.indexOf(INFO_SEPARATOR);
  const end = at === -1 ? fileName.length : at;
  return { size: nameSizeField(fileName, end, 'S'), vsize: nameSizeField(fileName, end, 'W') };
}

/**
 * The first `,S=<digits>` (or `,W=`) field of the base `name.slice(0, end)` that ends at ',' or the base's
 * end, 1–15 digits (as the regex /,S=(\d{1,15})(?=,|$)/ would find it in the base), read by hand without
 * cutting the name: a folder's first scan does this for every name.
 */
export function nameSizeField(name: string, end: number, key: 'S' | 'W'): number | undefined {
  const marker = key === 'S' ? ',S=' : ',W=';
  for (let at = name.indexOf(marker); at !== -1 && at + 3 <= end; at = name.indexOf(marker, at + 1)) {
    const start = at + 3;
    let stop = start;
    let n = 0;
    while (stop < end && stop - start <= 15) {
      const c = name.charCodeAt(stop);
      if (c < 0x30 || c > 0x39) break;
      n = n * 10 + (c - 0x30);
      stop++;
    }
    const digits = stop - start;
    if (digits === 0 || digits > 15 || (stop < end && name.charCodeAt(stop) !== 0x2c)) continue;
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}
