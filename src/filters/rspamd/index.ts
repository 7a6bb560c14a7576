/**
 * The built-in `rspamd` filter: each message goes to rspamd's normal worker (`POST /checkv2`, the
 * envelope as request headers) and its answer is applied the way rspamd's own milter proxy applies
 * it. See verdict.ts for the action table and the README (Built-in filters) for the options.
 */
import type { RspamdOptions } from '../../config/builtins/rspamd.js';
import type { Wants } from '../../mail/capabilities.js';
import { defineFilter } from '../../mail/define-filter.js';
import type { Filter } from '../../mail/filter.js';
import type { FilterContext } from '../context.js';
import { postCheckV2 } from './client.js';
import { NetworkList } from '../../mail/network-list.js';
import { rspamdSession, type CheckFunction } from './session.js';

/**
 * The changes rspamd's answer can ask for. Macros are not requested: the MTA's defaults carry what
 * rspamd's milter uses ({auth_authen} at MAIL, i at end of message, j / {daemon_name} at connect).
 */
export const RSPAMD_WANTS: Wants = {
  stages: ['connect', 'helo', 'mail', 'rcpt', 'header', 'endOfHeaders', 'body', 'endOfMessage'],
  actions: ['addHeader', 'changeHeader', 'changeSender', 'addRecipient', 'deleteRecipient', 'quarantine'],
};

export function createRspamdFilter(name: string, options: RspamdOptions, ctx: FilterContext, check: CheckFunction = postCheckV2): Filter {
  const networks = new NetworkList(options.skipNetworks);
  return defineFilter(name, RSPAMD_WANTS, () => rspamdSession({ options, networks, logger: ctx.logger, check }));
}
