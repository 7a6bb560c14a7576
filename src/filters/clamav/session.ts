/**
 * One SMTP connection through the clamav filter, stage by stage as clamav-milter: LocalNet is
 * accepted at connect, SkipAuthenticated at MAIL; clamd is connected to at the first header and the
 * message streamed to it as it comes (MessageScan), so end of message only waits for the verdict.
 */
import type { ClamavOptions } from '../../config/builtins/clamav.js';
import type { Change, EndOfMessageResult } from '../../mail/changes.js';
import type { ConnectionInfo } from '../../mail/connection.js';
import type { Capabilities, SessionContext } from '../../mail/filter.js';
import type { Logger } from '../../mail/logger.js';
import { ACCEPT, CONTINUE, TEMPFAIL, type Reply } from '../../mail/reply.js';
import type { StageHandlers } from '../../mail/define-filter.js';
import { failReply, infectedReply } from './actions.js';
import type { ClamdClient, ScanResult } from './client.js';
import type { LocalNet } from './local-net.js';
import { MessageScan } from './message-scan.js';
import { scannedValue, statusValue, virusHeaderChanges } from './virus-headers.js';
import type { VersionCache } from './version-cache.js';

/** What every session of one filter shares. */
export interface ClamavShared {
  readonly options: ClamavOptions;
  readonly client: ClamdClient;
  readonly versions: VersionCache;
  readonly localNet: LocalNet;
  readonly host: string;
  readonly logger: Logger;
}

/** The stage handlers of one session; `caps()` is what was negotiated with the MTA. */
export function clamavSession(shared: ClamavShared, caps: () => Capabilities | undefined): StageHandlers {
  const { options, logger } = shared;
  let message: MessageScan | undefined;
  const current = (): MessageScan => (message ??= new MessageScan(shared.client, options.maxFileSize));
  const drop = (): void => {
    message?.abandon();
    message = undefined;
  };

  return {
    connect(info: ConnectionInfo): Reply {
      if (!shared.localNet.has(info)) return CONTINUE;
      logger.debug({ client: info.address ?? info.hostname }, 'not scanned: client in local_net');
      return ACCEPT;
    },
    mail(sender: string, _args: readonly string[], ctx: SessionContext): Reply {
      drop();
      const login = ctx.macros.get('{auth_authen}');
      if (options.skipAuthenticated === undefined || login === undefined || login === '' || !options.skipAuthenticated.test(login)) {
        return CONTINUE;
      }
      logger.debug({ login, sender }, 'not scanned: authenticated sender (skip_authenticated)');
      return ACCEPT;
    },
    header(name: string, value: string): Reply {
      current().addHeader(name, value);
      return CONTINUE;
    },
    body(chunk: Buffer): Reply | Promise<Reply> {
      const room = current().addBody(chunk);
      return room === undefined ? CONTINUE : room.then(() => CONTINUE);
    },
    async endOfMessage(ctx: SessionContext): Promise<EndOfMessageResult> {
      const msg = current();
      message = undefined;
      try {
        return await scanMessage(shared, msg, ctx, caps());
      } finally {
        msg.abandon();
      }
    },
    abort(): void {
      drop();
    },
    close(): void {
      drop();
    },
  };
}

async function scanMessage(shared: ClamavShared, msg: MessageScan, ctx: SessionContext, caps: Capabilities | undefined): Promise<EndOfMessageResult> {
  const { options, logger } = shared;
  const queueId = ctx.macros.get('i');
  // The version is asked alongside the first scan only; afterwards it is cached (VersionCache never rejects).
  let version = options.addHeader === 'no' ? undefined : shared.versions.cached();
  const fetching = options.addHeader !== 'no' && version === undefined && !msg.tooBig ? shared.versions.get() : undefined;
  let result: ScanResult | undefined;
  try {
    result = await msg.finish();
    if (fetching) version = await fetching;
  } catch (err) {
    logger.warn({ queueId, onFail: options.onFail }, `clamd failed, on_fail ${options.onFail}: ${(err as Error).message}`);
    return { reply: failReply(options.onFail), changes: [] };
  }
  if (result === undefined) {
    logger.info({ queueId, size: msg.size, maxFileSize: options.maxFileSize }, `not scanned: message of ${msg.size} bytes is larger than max_file_size ${options.maxFileSize}`);
    return { reply: CONTINUE, changes: [] };
  }
  if (result.kind === 'error' || result.kind === 'unknown') {
    const what =
      result.kind === 'error'
        ? `clamd ${result.address} could not scan: ${result.message}${result.sizeLimit ? ' (raise StreamMaxLength in clamd.conf or lower max_file_size)' : ''}`
        : `clamd ${result.address} gave an unknown reply ${JSON.stringify(result.text.slice(0, 120))}`;
    logger.warn({ queueId, onFail: options.onFail }, `${what}, on_fail ${options.onFail}`);
    return { reply: failReply(options.onFail), changes: [] };
  }
  const virus = result.kind === 'infected' ? result.virus : undefined;
  const changes: Change[] = headerChanges(shared, msg, version, virus, caps);
  if (virus === undefined) return { reply: CONTINUE, changes };

  logger.info({ queueId, virus, onInfected: options.onInfected, clamd: result.address }, `infected by ${virus}, on_infected ${options.onInfected}`);
  if (options.onInfected === 'quarantine') {
    if (caps !== undefined && !caps.actions.has('quarantine')) {
      // clamav-milter defers when smfi_quarantine fails; the mail is then neither lost nor delivered.
      logger.warn({ queueId, virus }, 'cannot quarantine: the MTA did not offer the quarantine action; deferring');
      return { reply: TEMPFAIL, changes: [] };
    }
    changes.push({ kind: 'quarantine', reason: `quarantined by clamav (${virus})` });
  }
  return { reply: infectedReply(options.onInfected, virus, options.rejectMsg), changes };
}

function headerChanges(shared: ClamavShared, msg: MessageScan, version: string | undefined, virus: string | undefined, caps: Capabilities | undefined): Change[] {
  const mode = shared.options.addHeader;
  if (mode === 'no') return [];
  const needs = mode === 'replace' ? ['addHeader', 'changeHeader'] : ['addHeader'];
  if (caps !== undefined && !needs.every((a) => caps.actions.has(a as never))) return [];
  return virusHeaderChanges(mode, msg.existing, scannedValue(version, shared.host), statusValue(virus));
}
