/**
 * The built-in `auth` filter: SPF at MAIL FROM (shared with greylist through FilterContext.spf), DKIM
 * and DMARC verification with an Authentication-Results field, and DKIM signing for our own domains.
 */
import { hostname } from 'node:os';
import type { SenderAuthOptions } from '../../config/builtins/sender-auth.js';
import { capabilitiesFor, type Wants } from '../../mail/capabilities.js';
import type { Capabilities, Filter, FilterSession } from '../../mail/filter.js';
import type { EventStage } from '../../mail/stage.js';
import type { FilterContext } from '../context.js';
import { NetworkList } from '../../mail/network-list.js';
import { AuthSession, type AuthSetup } from './session.js';
import { loadSigningKey, type SigningKey } from './signing-keys.js';

export interface AuthFilterExtras {
  /** DMARC pct= sampling; tests pin it. */
  readonly random?: () => number;
}

export function createSenderAuthFilter(name: string, options: SenderAuthOptions, ctx: FilterContext, extras: AuthFilterExtras = {}): Filter {
  // Keys are read now: a missing or broken key file stops the start, naming the file.
  const keys = new Map<string, SigningKey>(options.sign.map((s) => [s.domain, loadSigningKey(s)]));
  const setup: AuthSetup = {
    options,
    authservId: options.authservId ?? hostname(),
    keys,
    signNetworks: new NetworkList(options.signNetworks),
    spfSkipNetworks: new NetworkList(options.spfSkipNetworks),
    ctx,
    random: extras.random ?? Math.random,
  };
  const messageStages = options.verify || keys.size > 0 || options.receivedSpfHeader;
  const stages: EventStage[] = ['connect', 'helo', 'mail', ...(messageStages ? (['header', 'body', 'endOfMessage'] as const) : [])];
  const wants: Wants = {
    stages,
    actions: ['addHeader', 'changeHeader', 'quarantine'],
    // Exact header bytes for c=simple signatures.
    leadingSpace: true,
    macros: { mail: ['{auth_authen}', '{auth_type}', 'i'] },
  };
  const answers = new WeakMap<Capabilities, Capabilities>();
  return {
    name,
    open(): FilterSession {
      const session = new AuthSession(setup);
      return {
        negotiate(offer) {
          let caps = answers.get(offer);
          if (caps === undefined) answers.set(offer, (caps = capabilitiesFor(offer, wants)));
          session.leadingSpace = caps.leadingSpace;
          return caps;
        },
        connect: (info) => session.connect(info),
        helo: (helo) => session.helo(helo),
        mail: (sender, args, sctx) => session.mail(sender, args, sctx),
        header: (n, value) => session.header(n, value),
        body: (chunk) => session.body(chunk),
        endOfMessage: (sctx) => session.endOfMessage(sctx),
        abort: () => session.abort(),
      };
    },
  };
}
