/**
 * One SMTP connection through the spamassassin filter, with spamass-milter's behaviour: skip listed
 * networks at connect and authenticated clients at MAIL, collect the message (X-Spam-* fields
 * withheld), ask spamd at end of message, then refuse, or copy SpamAssassin's X-Spam-* fields (and,
 * when allowed, its rewritten Subject/MIME fields and body) onto the message.
 */
import type { Change, EndOfMessageResult } from '../../mail/changes.js';
import type { StageHandlers } from '../../mail/define-filter.js';
import type { Logger } from '../../mail/logger.js';
import { ACCEPT, CONTINUE, reject, tempfail, type Reply } from '../../mail/reply.js';
import type { SpamAssassinOptions } from '../../config/builtins/spamassassin.js';
import type { Header } from '../../mail/header-list.js';
import { CollectedMessage } from '../shared/message.js';
import { describeSpamdAddress } from './address.js';
import { spamdCall, SpamdError, type SpamdClientOptions } from './client.js';
import { forgedSpamHeaderRemovals, rewrittenFieldChanges, spamHeaderAdditions } from './header-changes.js';
import type { NetworkList } from '../../mail/network-list.js';
import type { SpamdResponse } from './protocol.js';
import { isSpamHeader, parseRewrittenMessage, toWireValue } from './rewritten.js';
import { refuses } from './verdict.js';

export interface SpamAssassinSetup {
  readonly options: SpamAssassinOptions;
  readonly client: SpamdClientOptions;
  readonly skipNetworks: NetworkList;
  readonly logger: Logger;
}

/** The reply for on_fail = tempfail. */
export const SPAMD_UNAVAILABLE = tempfail(451, '4.7.1', 'Spam check temporarily unavailable, please try again later');

export function spamAssassinSession(setup: SpamAssassinSetup): StageHandlers {
  const { options, logger } = setup;
  /** Every field as the MTA gave it (X-Spam-* included), for the changes at end of message. */
  let incoming: Header[] = [];
  let message: CollectedMessage | undefined;

  const collected = (): CollectedMessage => (message ??= new CollectedMessage(options.maxSize));
  const reset = (): void => {
    incoming = [];
    message = undefined;
  };

  /** What an unscanned message gets when it goes through: no forged X-Spam-* field survives. */
  const unscanned = (): EndOfMessageResult => ({ reply: CONTINUE, changes: forgedSpamHeaderRemovals(incoming) });

  const failed = (err: SpamdError): EndOfMessageResult => {
    const tempfailing = options.onFail === 'tempfail';
    logger.warn({ failure: err.failure, onFail: options.onFail }, `${err.message}; message ${tempfailing ? 'tempfailed' : 'accepted unscanned'} (on_fail = ${options.onFail})`);
    return tempfailing ? { reply: SPAMD_UNAVAILABLE, changes: [] } : unscanned();
  };

  const judge = (response: SpamdResponse, sent: CollectedMessage): EndOfMessageResult => {
    const spam = response.spam!;
    if (refuses(spam, options.rejectScore)) {
      logger.info({ score: spam.score, threshold: spam.threshold, rejectScore: options.rejectScore }, `spam refused: score ${spam.score} (reject_score ${options.rejectScore})`);
      const reply: Reply = options.rejectCode < 500 ? tempfail(options.rejectCode, options.rejectEcode, options.rejectText) : reject(options.rejectCode, options.rejectEcode, options.rejectText);
      return { reply, changes: [] };
    }
    const rewritten = parseRewrittenMessage(response.body);
    const changes: Change[] = [...forgedSpamHeaderRemovals(incoming), ...spamHeaderAdditions(rewritten.headers)];
    if (options.modifyMessage) {
      changes.push(...rewrittenFieldChanges(incoming, rewritten.headers));
      const body = sent.body();
      if (!rewritten.body.equals(body)) changes.push({ kind: 'replaceBody', body: Buffer.from(rewritten.body) });
    }
    logger.debug({ spam: spam.isSpam, score: spam.score, threshold: spam.threshold, changes: changes.length }, 'scanned by spamd');
    return { reply: CONTINUE, changes };
  };

  return {
    connect(info) {
      if (!setup.skipNetworks.has(info.address)) return CONTINUE;
      logger.debug({ address: info.address }, 'client in skip_networks: not scanned');
      return ACCEPT;
    },
    mail(_sender, _args, ctx) {
      reset();
      if (!options.skipAuthenticated) return CONTINUE;
      const authenticated = ctx.macros.get('{auth_authen}') ?? ctx.macros.get('{auth_type}');
      if (authenticated === undefined || authenticated === '') return CONTINUE;
      logger.debug({ authenticated }, 'authenticated client: not scanned');
      return ACCEPT;
    },
    header(name, value) {
      incoming.push({ name, value });
      // Withheld from spamd like spamass-milter does: SpamAssassin must not see forged verdicts.
      if (!isSpamHeader(name)) collected().addHeader(name, toWireValue(value));
      return CONTINUE;
    },
    body(chunk) {
      collected().addBody(chunk);
      return CONTINUE;
    },
    async endOfMessage() {
      const sent = collected();
      try {
        if (!sent.complete) {
          logger.info({ size: sent.size, maxSize: options.maxSize }, `message of ${sent.size} bytes is over max_size (${options.maxSize}): passed unscanned`);
          return unscanned();
        }
        let response: SpamdResponse;
        try {
          response = await spamdCall(setup.client, options.modifyMessage ? 'PROCESS' : 'HEADERS', sent.toBuffer(), options.user === undefined ? {} : { user: options.user });
          if (response.spam === undefined) throw new SpamdError('protocol', `spamd ${describeSpamdAddress(setup.client.address)} answered without a Spam: header`);
        } catch (err) {
          if (err instanceof SpamdError) return failed(err);
          throw err;
        }
        return judge(response, sent);
      } finally {
        reset();
      }
    },
    abort() {
      reset();
    },
  };
}
