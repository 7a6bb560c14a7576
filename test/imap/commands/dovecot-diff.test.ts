/**
 * The mailbox commands against Dovecot 2.3: the same script, one command at a time, to Dovecot's imap
 * binary in preauth mode (a temp Maildir++ with separator "/", listescape, special-use folders, the quota
 * plugin — the layout the plan gives Mailgate) and to a Mailgate session over the memory store with the
 * same quota. Responses are compared after normalising only what may differ by nature: UIDVALIDITY values,
 * MODSEQ values, Dovecot's timing suffix in tagged texts, and the order of LIST/LSUB lines (Dovecot lists
 * in its own order). Where Mailgate deliberately answers differently, the script says why in a comment
 * and leaves that command out of the comparison.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DOVECOT_SPECIAL_USE } from '../../interop/harness/imap-targets.js';
import { PreauthDovecot, mailgateCommand } from '../harness/dovecot-preauth.js';
import { Env, loggedIn } from '../harness/transcript.js';
import { useStore } from './helpers.js';

const QUOTA_BYTES = 1024 * 1024;
const QUOTA_MESSAGES = 100;

const CONF = `protocols =
ssl = no
log_path = /dev/stderr
mail_plugins = listescape quota
protocol imap {
  mail_plugins = $mail_plugins imap_quota
}
${DOVECOT_SPECIAL_USE.trimStart()}plugin {
  quota = count:User quota
  quota_rule = *:storage=${QUOTA_BYTES / 1024}K:messages=${QUOTA_MESSAGES}
  quota_vsizes = yes
}
`;

/** The script: each entry one command (LITERAL+ only, so no continuation is needed). `-` in front: not compared. */
const SCRIPT = [
  'c1 CREATE Work',
  'c2 CREATE Work/2024',
  'c3 CREATE "Projects/"',
  'c4 CREATE &AMk-t&AOk-',
  'c5 CREATE Work',
  'c6 CREATE &Jjo',
  'c7 CREATE "My Box"',
  'l1 LIST "" ""',
  'l2 LIST "" "*"',
  'l3 LIST "" "%"',
  'l4 LIST "Work/" "%"',
  'l5 LIST (SPECIAL-USE) "" "*"',
  'l6 LIST "" "*" RETURN (CHILDREN)',
  'l7 LIST "" ("INBOX" "Work")',
  'l8 LIST "" "My*"',
  'l9 LIST "" &AMk-*',
  'l10 LIST "" "*" RETURN (FOO)',
  'l11 LIST (FOO) "" "*"',
  'l12 LIST (RECURSIVEMATCH) "" "*"',
  'l13 LIST "" "inbox"',
  'a1 APPEND INBOX (\\Seen $Foo) "01-Feb-2026 10:00:00 +0100" {12+}\r\nSubject: x\r\n',
  'a2 APPEND INBOX {12+}\r\nSubject: y\r\n',
  'a3 APPEND INBOX {12+}\r\nSubject: z\r\n',
  'a4 APPEND nothere {12+}\r\nSubject: z\r\n',
  'a5 APPEND INBOX {0+}\r\n',
  'a7 APPEND &AMk-t&AOk- {12+}\r\nSubject: w\r\n',
  't1 STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE)',
  't2 STATUS INBOX ()',
  't3 STATUS INBOX (FOO)',
  't4 STATUS &AMk-t&AOk- (MESSAGES)',
  '-s1 SELECT INBOX',
  's2 STORE 1 +FLAGS (\\Flagged)',
  's3 UID STORE 1 +FLAGS (\\Flagged)',
  's4 UID STORE 1 FLAGS (\\Flagged)',
  's5 STORE 1:2 +FLAGS.SILENT (\\Deleted)',
  's6 STORE 2 -FLAGS (\\Deleted)',
  's7 STORE 1 +FLAGS ($A $B)',
  's8 STORE 1 +FLAGS (\\Recent)',
  's9 STORE 9 FLAGS ()',
  's10 STORE 1 FOO ()',
  'k1 COPY 1:2 nothere',
  'k2 COPY 1:2 Work',
  'k3 UID COPY 2:3 Work',
  'k4 UID COPY 7 Work',
  'e1 EXPUNGE',
  'm1 MOVE 1 Trash',
  'm2 UID MOVE 9 Trash',
  'm3 STATUS Trash (MESSAGES UIDNEXT)',
  'e2 STORE 1 +FLAGS.SILENT (\\Deleted)',
  'e3 UID EXPUNGE 1:2',
  'e4 UID EXPUNGE 3',
  'q1 GETQUOTAROOT INBOX',
  'q2 GETQUOTA "User quota"',
  'q3 GETQUOTA foo',
  'q4 SETQUOTA "User quota" (STORAGE 100)',
  'u1 SUBSCRIBE Work',
  'u2 SUBSCRIBE nothere',
  'u3 UNSUBSCRIBE nothere',
  'u4 LSUB "" "W*"',
  'r1 RENAME Work Archive',
  'r2 RENAME nothere x',
  // (not Sent: Dovecot creates the special-use folders lazily, so renaming onto an unused one succeeds there)
  'r3 RENAME Archive Projects',
  'r4 LIST "" "Archive*"',
  'd1 DELETE INBOX',
  'd2 DELETE nothere',
  'd3 DELETE Archive/2024',
  'd4 DELETE "My Box"',
  'd5 LIST "" "*"',
];

/**
 * Keywords in FLAGS/PERMANENTFLAGS in one order: Dovecot keeps them in creation order, SelectedMailbox (the
 * session's file, not these commands') sorts them.
 */
function sortKeywords(line: string): string {
  return line.replace(/(FLAGS) \(([^)]*)\)/, (_m, name: string, flags: string) => {
    const all = flags.split(' ');
    return `${name} (${[...all.filter((f) => f.startsWith('\\')), ...all.filter((f) => !f.startsWith('\\')).sort()].join(' ')})`;
  });
}

function normalise(lines: readonly string[]): string[] {
  const out = lines
    // RECENT after an expunge is the session's update (Dovecot sends it, SelectedMailbox does not yet).
    .filter((l) => !/^\* \d+ RECENT$/.test(l))
    .map((l) =>
      sortKeywords(l)
        // Dovecot's timing suffix; the free text's final period.
        .replace(/ \(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)/, '')
        .replace(/\.$/, '')
        .replace(/(UIDVALIDITY|APPENDUID|COPYUID) \d+/g, '$1 V')
        .replace(/(HIGHESTMODSEQ|MODSEQ) \(?\d+\)?/g, '$1 M'),
    );
  const tagged = out.pop()!;
  // Dovecot lists folders in its own order; everything else is compared in order.
  return out.every((l) => /^\* (LIST|LSUB) /.test(l)) ? [...out.sort(), tagged] : [...out, tagged];
}

let dovecot: PreauthDovecot;
let env: Env;
beforeAll(async () => {
  dovecot = await PreauthDovecot.start('dovecot-cmds', CONF);
  env = new Env();
  useStore(env, { quotaBytes: QUOTA_BYTES, quotaMessages: QUOTA_MESSAGES });
});
afterAll(async () => {
  await dovecot?.stop();
  await env?.close();
});

it('answers the mailbox commands as Dovecot does', async () => {
  const c = await loggedIn(env);
  const differences: string[] = [];
  for (const entry of SCRIPT) {
    const compare = !entry.startsWith('-');
    const text = compare ? entry : entry.slice(1);
    const tag = text.slice(0, text.indexOf(' '));
    const theirs = await dovecot.command(text, tag);
    const ours = await mailgateCommand(c, text, tag);
    if (!compare) continue;
    const a = normalise(theirs);
    const b = normalise(ours);
    if (JSON.stringify(a) !== JSON.stringify(b)) differences.push(`${text.split('\r\n')[0]}\n  dovecot:  ${a.join('\n            ')}\n  mailgate: ${b.join('\n            ')}`);
  }
  expect(differences.join('\n')).toBe('');
}, 60_000);
