/**
 * Differential: every relay trick typed into a private Postfix smtpd (mydestination = the same local
 * domains, smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,
 * reject_unauth_destination, the loopback client outside mynetworks) and into smtp-server with our
 * onRcptTo. Whatever Postfix refuses we refuse, whatever we take Postfix takes as local mail, and
 * where we are stricter than Postfix the list is fixed here, so that a change on either side shows. Both
 * drop a source route and take <@other.example:user@local.example> as the local user@local.example.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostfix, type Postfix } from './harness/postfix.js';
import { setupGuard } from './harness/setup-guard.js';
import { rawSession, startRelayServer, type RelayServer } from '../smtp/relay-server.js';
import { TRICKS } from '../smtp/relay-tricks.js';

const LOCAL = ['local.example', 'localhost'];

describe('relay tricks: Postfix and Mailgate side by side', { timeout: 120_000 }, () => {
  const setup = setupGuard();
  let postfix: Postfix | undefined;
  let ours: RelayServer | undefined;
  beforeAll(() =>
    setup.run(async () => {
      ours = await startRelayServer(LOCAL);
      postfix = await startPostfix({
        milterSpec: '',
        extra: {
          mydestination: LOCAL.join(', '),
          local_recipient_maps: '',
          mynetworks: '192.0.2.0/24',
          smtpd_relay_restrictions: 'permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination',
          smtputf8_enable: 'yes',
        },
      });
    }),
  );
  afterAll(async () => {
    await ours?.close();
    await postfix?.stop();
  });

  type Outcome = 'local' | 'accepted' | 'refused';
  /**
   * Postfix here has local_recipient_maps empty and local_transport = error:5.1.1, so a recipient it
   * takes as local gets "550 5.1.1 ... no local delivery in tests"; a 250 from it is anything else it
   * takes (the bare postmaster); ours takes any local user with 250.
   */
  const postfixOutcome = (r: string): Outcome => (/^550 5\.1\.1 .*no local delivery/.test(r) ? 'local' : r.startsWith('250 ') ? 'accepted' : 'refused');
  const ourOutcome = (r: string): Outcome => (r.startsWith('250 ') ? 'local' : 'refused');

  async function both(rcpt: string): Promise<{ postfix: Outcome[]; ours: Outcome[]; table: string }> {
    const lines = ['EHLO client.example', 'MAIL FROM:<s@client.example> SMTPUTF8', `RCPT TO:<${rcpt}>`, 'RSET'];
    const pf = (await rawSession(postfix!.port, lines)).slice(2, -1);
    const mg = (await rawSession(ours!.port, lines)).slice(2, -1);
    return { postfix: pf.map(postfixOutcome), ours: mg.map(ourOutcome), table: `${JSON.stringify(rcpt)}\n  postfix:  ${pf.join(' | ')}\n  mailgate: ${mg.join(' | ')}` };
  }

  /** Tricks Postfix takes as local mail and we refuse (stricter on purpose: see relay-policy.ts and address.ts). */
  const STRICTER = [
    // Postfix applies the percent hack and finds a local address again
    'user%local.example@local.example',
    // quoted local parts that need quotes; an RFC 822 comment or a space, which Postfix removes
    '"@other.example:user"@local.example',
    '"user other"@local.example',
    '""@local.example',
    '"user."@local.example',
    'user(comment)@local.example',
    'user@local.example(comment)',
    'user@ local.example',
    // full-width "％", "！", "＠" (routing characters once NFKC-normalised) and a no-break space, which
    // Postfix (smtputf8_enable = yes) takes as part of a local user's name
    'user\uff05other.example@local.example',
    'other.example\uff01user@local.example',
    'user\uff20other.example@local.example',
    'user\u00a0@local.example',
    // Postfix's own interface addresses ([$inet_interfaces]) are local to it; ours only when configured
    'user@[127.0.0.1]',
    'user@[IPv6:::ffff:127.0.0.1]',
    'user@[0177.0.0.1]',
  ];

  it('refuses everything Postfix refuses, takes only what Postfix takes as local mail, and is stricter only where listed', async () => {
    setup.check();
    const stricter: string[] = [];
    for (const [addr] of TRICKS) {
      const r = await both(addr);
      expect(r.ours.length, r.table).toBe(r.postfix.length);
      r.postfix.forEach((pf, i) => {
        // Postfix takes none of them but as local mail
        expect(pf, r.table).not.toBe('accepted');
        if (pf === 'refused') expect(r.ours[i], r.table).toBe('refused');
        if (pf === 'local' && r.ours[i] === 'refused') stricter.push(addr);
      });
    }
    expect(stricter.sort()).toEqual([...STRICTER].sort());
  });

  it('takes the same legitimate local mail as Postfix, except a trailing dot (smtp-server refuses it)', async () => {
    setup.check();
    for (const rcpt of ['user@local.example', 'USER@LOCAL.EXAMPLE', 'first.last+tag@local.example', '"user"@local.example', 'user@localhost']) {
      const r = await both(rcpt);
      expect(r, r.table).toMatchObject({ postfix: ['local'], ours: ['local'] });
    }
    const postmaster = await both('Postmaster');
    expect(postmaster, postmaster.table).toMatchObject({ postfix: ['accepted'], ours: ['local'] });
    const dot = await both('user@local.example.');
    expect(dot, dot.table).toMatchObject({ postfix: ['local'], ours: ['refused'] });
  });
});
