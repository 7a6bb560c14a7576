/**
 * One SMTP connection through the clamav filter, stage by stage as clamav-milter: LocalNet is
 * accepted at connect, SkipAuthenticated at MAIL; clamd is connected to at the first header, and
 * headers and body are collected and streamed to it at end of message (with clamav-milter's mbox "From " line first, so clamd parses it as mail).
 */
import type { ClamavOptions } from '../../config/builtins/clamav.js';
import type { Change, EndOfMessageResult } from '../../mail/changes.js';
import type { ConnectionInfo } from '../../mail/connection.js';
import type { Capabilities, SessionContext } from '../../mail/filter.js';
import type { Logger } from '../../mail/logger.js';
import { ACCEPT, CONTINUE, TEMPFAIL, type Reply } from '../../mail/reply.js';
import type { StageHandlers } from '../../mail/define-filter.js';
import { CollectedMessage } from '../shared/message.js';
import { failReply, infectedReply } from './actions.js';
import type { ClamdClient, ScanResult } from './client.js';
import type { ClamdConnection } from './connection.js';
import type { LocalNet } from './local-net.js';
import { SCANNED, scannedValue, STATUS, statusValue, virusHeaderChanges } from './virus-headers.js';
import type { VersionCache } from './version-cache.js';

export const MBOX_FROM_LINE = Buffer.from('From clamav-milter\n', 'latin1');

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
  let message: CollectedMessage | undefined;
  // clamd is connected to when the message starts, as clamav-milter does, so that end of message
  // waits only for the scan.
  let connection: ClamdConnection | undefined;
  const current = (): CollectedMessage => {
    if (message === undefined) {
      message = new CollectedMessage(options.maxFileSize);
      connection?.close();
      connection = shared.client.reserve();
    }
    return message;
  };
  const drop = (): void => {
    message = undefined;
    connection?.close();
    connection = undefined;
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
    body(chunk: Buffer): Reply {
      current().addBody(chunk);
      return CONTINUE;
    },
    async endOfMessage(ctx: SessionContext): Promise<EndOfMessageResult> {
      const msg = current();
      const reserved = connection;
      message = undefined;
      connection = undefined;
      try {
        return await scanMessage(shared, msg, ctx, caps(), reserved);
      } finally {
        reserved?.close();
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

async function scanMessage(
  shared: ClamavShared,
  msg: CollectedMessage,
  ctx: SessionContext,
  caps: Capabilities | undefined,
  reserved: ClamdConnection | undefined,
): Promise<EndOfMessageResult> {
  const { options, logger } = shared;
  const queueId = ctx.macros.get('i');
  if (!msg.complete) {
    logger.info({ queueId, size: msg.size, maxFileSize: options.maxFileSize }, `not scanned: message of ${msg.size} bytes is larger than max_file_size ${options.maxFileSize}`);
    return { reply: CONTINUE, changes: [] };
  }
  // The version is asked alongside the first scan only; afterwards it is cached (VersionCache never rejects).
  let version = options.addHeader === 'no' ? undefined : shared.versions.cached();
  const fetching = options.addHeader !== 'no' && version === undefined ? shared.versions.get() : undefined;
  let result: ScanResult;
  try {
    result = await shared.client.scan([MBOX_FROM_LINE, msg.headerBlock(), ...msg.bodyChunks()], reserved);
    if (fetching) version = await fetching;
  } catch (err) {
    logger.warn({ queueId, onFail: options.onFail }, `clamd failed, on_fail ${options.onFail}: ${(err as Error).message}`);
    return { reply: failReply(options.onFail), changes: [] };
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

function headerChanges(shared: ClamavShared, msg: CollectedMessage, version: string | undefined, virus: string | undefined, caps: Capabilities | undefined): Change[] {
  const mode = shared.options.addHeader;
  if (mode === 'no') return [];
  const needs = mode === 'replace' ? ['addHeader', 'changeHeader'] : ['addHeader'];
  if (caps !== undefined && !needs.every((a) => caps.actions.has(a as never))) return [];
  const existing = { scanned: msg.values(SCANNED).length, status: msg.values(STATUS).length };
  return virusHeaderChanges(mode, existing, scannedValue(version, shared.host), statusValue(virus));
}
