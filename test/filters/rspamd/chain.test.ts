// The rspamd filter as a child of the chain, built from mailgate.toml like the manager builds it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainFromConfig } from '../../../src/chain/from-config.js';
import type { Chain } from '../../../src/chain/chain.js';
import { parseConfig } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/mail/logger.js';
import { FakeRspamd, runMessage } from './helpers.js';

let fake: FakeRspamd;
const chains: Chain[] = [];
beforeAll(async () => {
  fake = await FakeRspamd.start();
});
afterAll(async () => {
  for (const c of chains) c.dispose();
  await fake.stop();
});

function chainFor(extra = ''): Chain {
  const toml = `[manager]
connection_spec = "inet:10025@127.0.0.1"

[[milter]]
name = "rspamd"
builtin = "rspamd"
url = "${fake.url}"
timeout = 2
spam_header = "X-Spam-Flag"
${extra}
`;
  const chain = chainFromConfig(parseConfig(toml, 'mailgate.toml').config, silentLogger);
  chains.push(chain);
  return chain;
}

describe('[[milter]] builtin = "rspamd" through the chain', () => {
  it('add header + milter block: the MTA gets the net header changes', async () => {
    fake.behaviour = {
      json: {
        action: 'add header',
        score: 7,
        required_score: 15,
        milter: { remove_headers: { 'X-Spamd-Result': 0 }, add_headers: { 'X-Spamd-Result': { value: 'default: False [7.00 / 15.00]', order: -1 } } },
      },
    };
    const { eom } = await runMessage(chainFor(), {
      headers: [
        ['From', 'alice@example.net'],
        ['Subject', 'hello'],
        ['X-Spamd-Result', 'forged'],
        ['X-Spam-Flag', 'No'],
      ],
    });
    expect(eom?.reply.status).toBe('continue');
    // The chain hands values to the MTA with their leading space (HDR_LEADSPC was offered).
    const headerChanges = eom!.changes.map((c) => ('name' in c ? `${c.kind} ${c.name}${'value' in c ? `: ${c.value.trim()}` : ''}` : c.kind));
    expect(headerChanges).toEqual([
      'deleteHeader X-Spam-Flag',
      'deleteHeader X-Spamd-Result',
      'addHeader X-Spamd-Result: default: False [7.00 / 15.00]',
      'addHeader X-Spam-Flag: Yes',
    ]);
    expect(fake.last.headers.ip).toBe('192.0.2.10');
  });

  it('reject: the chain rejects the message with rspamd\'s reply', async () => {
    fake.behaviour = { json: { action: 'reject', messages: { smtp_message: 'Gtube pattern' } } };
    const { eom } = await runMessage(chainFor());
    expect(eom?.reply).toMatchObject({ status: 'reject', code: 554, enhancedCode: '5.7.1', text: 'Gtube pattern' });
  });

  it('rspamd down with on_fail = "tempfail": the chain tempfails', async () => {
    const gone = await FakeRspamd.start();
    const url = gone.url;
    await gone.stop();
    const toml = `[[milter]]\nname = "rspamd"\nbuiltin = "rspamd"\nurl = "${url}"\non_fail = "tempfail"\n`;
    const chain = chainFromConfig(parseConfig(toml, 'mailgate.toml').config, silentLogger);
    chains.push(chain);
    const { eom } = await runMessage(chain);
    expect(eom?.reply).toMatchObject({ status: 'tempfail', code: 451, enhancedCode: '4.7.1' });
  });
});
