/** `mailgate regex test`, run as the built command. */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../milter/helpers.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');
const dir = tempDir();
const eml = join(dir.path, 'message.eml');

beforeAll(() => {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  writeFileSync(
    eml,
    [
      'From: Alice <alice@example.com>',
      'Subject: =?UTF-8?Q?Cheap_r=C3=B6lex?=',
      ' watches',
      'Subject: second subject',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Hello,',
      'buy che=',
      'ap pills at http://pills.example/ now',
      '',
    ].join('\r\n'),
  );
});
afterAll(() => dir.cleanup());

function mailgate(args: string[], input?: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

describe('mailgate regex test', () => {
  it('prints every match with line:column, offset, numbered and named groups; exit 0', async () => {
    const r = await mailgate(['regex', 'test', '/(?<word>b\\w+)( [a-z]+)?/i', '--text', 'a Bee\nsome bird song\nbx']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        'match 1: line 1, column 3, offset 2: "Bee"',
        '  $1 = "Bee"',
        '  $2 = (did not take part in the match)',
        '  $<word> = "Bee"',
        'match 2: line 2, column 6, offset 11: "bird song"',
        '  $1 = "bird"',
        '  $2 = " song"',
        '  $<word> = "bird"',
        'match 3: line 3, column 1, offset 21: "bx"',
        '  $1 = "bx"',
        '  $2 = (did not take part in the match)',
        '  $<word> = "bx"',
        '3 matches',
        '',
      ].join('\n'),
    );
    expect(r.code).toBe(0);
  });

  it('--flags applies to a bare pattern', async () => {
    const r = await mailgate(['regex', 'test', 'hello$', '--flags', 'im', '--text', 'HELLO\nworld']);
    expect(r.stdout).toBe('match 1: line 1, column 1, offset 0: "HELLO"\n1 match\n');
    expect(r.code).toBe(0);
  });

  it('exit 1 when nothing matches', async () => {
    const r = await mailgate(['regex', 'test', 'zebra', '--text', 'no stripes here']);
    expect(r.stdout).toBe('no match\n');
    expect(r.code).toBe(1);
  });

  it('exit 2 with one clear line on an invalid pattern or flags', async () => {
    const bad = await mailgate(['regex', 'test', '/a(b/', '--text', 'ab']);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe('mailgate: invalid pattern "/a(b/": Invalid regular expression: /a(b/: Unterminated group\n');
    expect(bad.code).toBe(2);
    const flags = await mailgate(['regex', 'test', 'a', '--flags', 'x', '--text', 'a']);
    expect(flags.stderr).toBe('mailgate: invalid pattern "a": "x" is not a valid set of regular expression flags\n');
    expect(flags.code).toBe(2);
  });

  it('--file searches the decoded body text', async () => {
    const r = await mailgate(['regex', 'test', '/cheap (\\w+)/', '--file', eml]);
    expect(r.stdout).toBe('match 1: line 2, column 5, offset 11: "cheap pills"\n  $1 = "pills"\n1 match\n');
    expect(r.code).toBe(0);
  });

  it('--file with --header searches each value of that header, unfolded and decoded', async () => {
    const r = await mailgate(['regex', 'test', '/(r\\S+) watches|second/', '--file', eml, '--header', 'subject']);
    expect(r.stdout).toBe(
      [
        'match 1 in subject #1: line 1, column 7, offset 6: "rölex watches"',
        '  $1 = "rölex"',
        'match 2 in subject #2: line 1, column 1, offset 0: "second"',
        '  $1 = (did not take part in the match)',
        '2 matches',
        '',
      ].join('\n'),
    );
    expect(r.code).toBe(0);
  });

  it('reads the text from standard input without --text or --file', async () => {
    const r = await mailgate(['regex', 'test', 'b+'], 'abbbc');
    expect(r.stdout).toBe('match 1: line 1, column 2, offset 1: "bbb"\n1 match\n');
  });

  it('refuses --header without --file, and --text with --file', async () => {
    const r = await mailgate(['regex', 'test', 'a', '--text', 'a', '--header', 'Subject']);
    expect(r.stderr).toBe('mailgate: --header needs --file (the message whose header is searched)\n');
    expect(r.code).toBe(2);
    const both = await mailgate(['regex', 'test', 'a', '--text', 'a', '--file', eml]);
    expect(both.code).toBe(2);
  });
});
