// The rspamd filter against a REAL rspamd (Debian's 3.4, normal worker only, offline; see
// test/interop/harness/rspamd.ts). If rspamd cannot start, every test here FAILS with the reason.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chainFromConfig } from '../../../src/chain/from-config.js';
import type { Chain } from '../../../src/chain/chain.js';
import type { RspamdOptions } from '../../../src/config/builtins/rspamd.js';
import { parseConfig } from '../../../src/config/load.js';
import { postCheckV2 } from '../../../src/filters/rspamd/client.js';
import { createRspamdFilter } from '../../../src/filters/rspamd/index.js';
import { parseCheckReply } from '../../../src/filters/rspamd/reply.js';
import { HeaderList } from '../../../src/mail/header-list.js';
import { silentLogger } from '../../../src/mail/logger.js';
import { setupGuard } from '../../interop/harness/setup-guard.js';
import { Teardown } from '../../interop/harness/teardown.js';
import { GTUBE, GTUBE_MESSAGE, startRspamd, TEST_ACTION_HEADER, TEST_SCORE_HEADER, type Rspamd } from '../../interop/harness/rspamd.js';
import { filterContext, options, recordingLogger, runMessage, type MessageRun } from './helpers.js';

const LIMITS = { timeout: 60_000 };
const HAM_HEADERS: [string, string][] = [
  ['From', 'Alice <alice@example.net>'],
  ['To', 'Bob <bob@example.org>'],
  ['Subject', 'hello'],
  ['Date', 'Mon, 3 Mar 2025 10:00:00 +0000'],
  ['Message-ID', '<ham.1@example.net>'],
  ['X-Spamd-Result', 'forged by the sender'],
];

describe('real rspamd (normal worker, offline)', LIMITS, () => {
  const td = new Teardown();
  const setup = setupGuard();
  let rspamd: Rspamd;
  const chains: Chain[] = [];
  beforeAll(() =>
    setup.run(async () => {
      rspamd = td.add(await startRspamd());
      console.log(`rspamd ready on ${rspamd.url} after ${rspamd.startupMs} ms`);
    }),
  );
  afterAll(async () => {
    for (const c of chains) c.dispose();
    await td.run();
  });

  const filter = (overrides: Partial<RspamdOptions> = {}) => createRspamdFilter('rspamd', options({ url: rspamd.url, timeoutSeconds: 10, ...overrides }), filterContext(recordingLogger().logger));
  const run = (m: MessageRun, overrides: Partial<RspamdOptions> = {}) => runMessage(filter(overrides), m);
  const withHeader = (name: string, value: string): MessageRun => ({ headers: [...HAM_HEADERS, [name, value]] });
  const dumpLog = async (): Promise<void> => {
    if (setup.ok) console.error(`--- rspamd log ---\n${await rspamd.log()}`);
  };

  test('the client alone: GTUBE → action reject', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(dumpLog);
    const body = await postCheckV2({ url: rspamd.url }, { IP: '192.0.2.10', From: '<alice@example.net>', Rcpt: ['<bob@example.org>'] }, Buffer.from(`Subject: t\r\n\r\n${GTUBE}\r\n`), { timeoutMs: 10_000 });
    const parsed = parseCheckReply(body);
    expect(parsed.ok && parsed.reply).toMatchObject({ action: 'reject', smtpMessage: GTUBE_MESSAGE });
  });

  test('GTUBE is rejected: 554 5.7.1 Gtube pattern', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(dumpLog);
    const { eom } = await run({ headers: HAM_HEADERS, body: `This is spam.\r\n${GTUBE}\r\n` });
    expect(eom).toEqual({ reply: { status: 'reject', code: 554, enhancedCode: '5.7.1', text: GTUBE_MESSAGE }, changes: [] });
  });

  test('ham passes with the milter block\'s headers; rspamd saw the envelope', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(dumpLog);
    const { eom } = await run({
      headers: HAM_HEADERS,
      recipients: ['<bob@example.org>', '<carol@example.org>'],
      macros: { mail: [['{auth_authen}', 'alice']], eom: [['i', 'HAMQID1']] },
    });
    expect(eom?.reply.status).toBe('accept');
    const headers = new HeaderList(HAM_HEADERS.map(([name, value]) => ({ name, value })));
    headers.apply(eom!.changes);
    const get = (n: string) => headers.all.filter((h) => h.name === n).map((h) => h.value);
    expect(get('X-Spamd-Result')).toHaveLength(1);
    expect(get('X-Spamd-Result')[0]).toMatch(/^default: False \[/);
    expect(get('X-Rspamd-Queue-Id')).toEqual(['HAMQID1']);
    expect(get('X-Rspamd-Action')).toEqual(['no action']);
    expect(get('X-Spam-Status')[0]).toMatch(/^No, score=/);
    expect(get('X-Rspamd-Server')).toHaveLength(1);
    expect(get('X-Spam')).toEqual([]);
    // rspamd's own log line for the task names the envelope we sent as headers.
    let log = '';
    for (let i = 0; i < 40 && !log.includes('HAMQID1'); i++) {
      log = await rspamd.log();
      await new Promise((r) => setTimeout(r, 50));
    }
    const line = log.split('\n').find((l) => l.includes('qid: <HAMQID1>')) ?? '';
    expect(line).toContain('ip: 192.0.2.10');
    expect(line).toContain('user: alice');
    expect(line).toContain('from: <alice@example.net>');
    expect(line).toContain('rcpts: <bob@example.org,carol@example.org>');
  });

  test('greylist (score 5) → accepted', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(dumpLog);
    const { eom } = await run(withHeader(TEST_SCORE_HEADER, '5'));
    expect(eom?.reply.status).toBe('accept');
    expect(eom?.changes).toContainEqual(expect.objectContaining({ name: 'X-Rspamd-Action', value: 'greylist' }));
  });

  test('add header (score 7) → X-Spam: Yes', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(dumpLog);
    const { eom } = await run({ headers: [...HAM_HEADERS, [TEST_SCORE_HEADER, '7'], ['X-Spam', 'No']] });
    expect(eom?.reply.status).toBe('accept');
    expect(eom?.changes).toContainEqual({ kind: 'addHeader', name: 'X-Spam', value: 'Yes' });
    expect(eom?.changes).toContainEqual({ kind: 'deleteHeader', name: 'X-Spam', index: 1 });
  });

  test('rewrite subject (score 9) → "***SPAM*** hello"', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(dumpLog);
    const { eom } = await run(withHeader(TEST_SCORE_HEADER, '9'));
    expect(eom?.reply.status).toBe('accept');
    expect(eom?.changes).toContainEqual({ kind: 'changeHeader', name: 'Subject', index: 1, value: '***SPAM*** hello' });
  });

  test('reject by score (20) → 554 5.7.1 Spam message rejected', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(dumpLog);
    const { eom } = await run(withHeader(TEST_SCORE_HEADER, '20'));
    expect(eom?.reply).toEqual({ status: 'reject', code: 554, enhancedCode: '5.7.1', text: 'Spam message rejected' });
  });

  test('soft reject → 451 4.7.1 with rspamd\'s message', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(dumpLog);
    const { eom } = await run(withHeader(TEST_ACTION_HEADER, 'soft reject'));
    expect(eom?.reply).toEqual({ status: 'tempfail', code: 451, enhancedCode: '4.7.1', text: 'forced by test' });
  });

  test('over the unix socket', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(dumpLog);
    const { eom } = await run({ headers: HAM_HEADERS, body: `${GTUBE}\r\n` }, { socket: rspamd.socketPath, url: 'http://127.0.0.1:1' });
    expect(eom?.reply).toMatchObject({ status: 'reject', code: 554 });
  });

  test('through the chain from mailgate.toml: GTUBE rejected, ham gets the headers', async ({ onTestFailed }) => {
    setup.check();
    onTestFailed(dumpLog);
    const toml = `[[milter]]\nname = "rspamd"\nbuiltin = "rspamd"\nurl = "${rspamd.url}"\ntimeout = 10\nscore_header = "X-Spam-Score"\n`;
    const chain = chainFromConfig(parseConfig(toml, 'mailgate.toml').config, silentLogger);
    chains.push(chain);
    const spam = await runMessage(chain, { headers: HAM_HEADERS, body: `${GTUBE}\r\n` });
    expect(spam.eom?.reply).toMatchObject({ status: 'reject', code: 554, enhancedCode: '5.7.1', text: GTUBE_MESSAGE });
    const ham = await runMessage(chain, { headers: HAM_HEADERS });
    expect(ham.eom?.reply.status).toBe('continue');
    const names = ham.eom!.changes.flatMap((c) => ('name' in c && c.kind !== 'deleteHeader' ? [c.name] : []));
    expect(names).toEqual(expect.arrayContaining(['X-Spamd-Result', 'X-Rspamd-Action', 'X-Spam-Score']));
    expect(ham.eom!.changes).toContainEqual({ kind: 'deleteHeader', name: 'X-Spamd-Result', index: 1 });
  });
});
