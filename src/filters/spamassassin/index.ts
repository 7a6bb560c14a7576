/**
 * The built-in `spamassassin` filter: SpamAssassin through spamd (SPAMC/1.5), behaving like
 * spamass-milter. Asks only for the stages and macros it uses.
 */
import type { SpamAssassinOptions } from '../../config/builtins/spamassassin.js';
import type { Wants } from '../../mail/capabilities.js';
import { defineFilter } from '../../mail/define-filter.js';
import type { Action, Filter } from '../../mail/filter.js';
import type { EventStage } from '../../mail/stage.js';
import type { FilterContext } from '../context.js';
import { parseSpamdAddress } from './address.js';
import { NetworkList } from '../../mail/network-list.js';
import { spamAssassinSession } from './session.js';

export { SpamdError, spamdCall } from './client.js';
export { parseSpamdAddress } from './address.js';

export function spamAssassinWants(options: SpamAssassinOptions): Wants {
  const stages: EventStage[] = ['header', 'body', 'endOfMessage'];
  if (options.skipNetworks.length > 0) stages.push('connect');
  if (options.skipAuthenticated) stages.push('mail');
  const actions: Action[] = ['addHeader', 'changeHeader'];
  if (options.modifyMessage) actions.push('changeBody');
  return {
    stages,
    actions,
    // Headers and body chunks are only collected: the MTA need not wait for an answer.
    noReply: ['header', 'body'],
    ...(options.skipAuthenticated ? { macros: { mail: ['{auth_authen}', '{auth_type}'] } } : {}),
  };
}

export function createSpamAssassinFilter(name: string, options: SpamAssassinOptions, ctx: FilterContext): Filter {
  const client = {
    address: parseSpamdAddress(options.spamd),
    connectTimeoutMs: options.connectTimeout * 1000,
    timeoutMs: options.timeout * 1000,
  };
  const setup = { options, client, skipNetworks: new NetworkList(options.skipNetworks), logger: ctx.logger };
  return defineFilter(name, spamAssassinWants(options), () => spamAssassinSession(setup));
}
