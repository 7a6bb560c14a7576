/**
 * `mailgate test-client`: a milter that prints every command and macro it receives and answers with
 * a chosen status (like milter-test-client), for checking what an MTA sends.
 */
import { Command, Option } from 'commander';
import { capabilitiesFor } from '../mail/capabilities.js';
import type { Change } from '../mail/changes.js';
import { ALL_ACTIONS, type Filter, type FilterSession, type SessionContext } from '../mail/filter.js';
import { createLogger } from '../mail/logger.js';
import { CONTINUE, type Reply, type Status } from '../mail/reply.js';
import type { EventStage, MacroStage } from '../mail/stage.js';
import { MilterServer } from '../milter/server.js';
import { collect, numberOption, UsageError } from './options.js';
import { postfixMilterAdvice } from './postfix-milters.js';

const STAGE_NAMES: Record<string, EventStage | 'all'> = {
  connect: 'connect',
  helo: 'helo',
  'envelope-from': 'mail',
  mail: 'mail',
  'envelope-recipient': 'rcpt',
  rcpt: 'rcpt',
  data: 'data',
  header: 'header',
  'end-of-header': 'endOfHeaders',
  body: 'body',
  'end-of-message': 'endOfMessage',
  unknown: 'unknown',
  all: 'all',
};

interface Options {
  connectionSpec?: string;
  status: Status;
  statusStage: string;
  addHeader?: string[];
  quiet?: boolean;
  unixSocketMode?: string;
  unixSocketGroup?: string;
  timeout: number;
  verbose?: boolean;
}

export function testClientCommand(): Command {
  return new Command('test-client')
    .description('a milter that prints what the MTA sends and answers with a chosen status (like milter-test-client)')
    .helpOption('--help', 'show this help')
    .option('-s, --connection-spec <spec>', 'where to listen: unix:PATH | inet:PORT[@HOST] | inet6:PORT[@HOST] | inet:HOST:PORT (Postfix)')
    .addOption(
      new Option('--status <status>', 'the answer')
        .choices(['continue', 'accept', 'reject', 'tempfail', 'discard'])
        .default('continue'),
    )
    .option('--status-stage <stage>', `stage answered with --status (${Object.keys(STAGE_NAMES).join(', ')})`, 'end-of-message')
    .option('--add-header <"Name: value">', 'header added at end of message (repeatable)', collect)
    .option('--quiet', 'print nothing about the commands received')
    .option('--unix-socket-mode <mode>', 'mode of the unix socket', '0660')
    .option('--unix-socket-group <group>', 'group of the unix socket')
    .option('--timeout <seconds>', 'close an MTA connection idle this long', numberOption, 7210)
    .option('-v, --verbose', 'log protocol details to standard error')
    .action(async (opts: Options) => {
      await run(opts);
    });
}

async function run(opts: Options): Promise<void> {
  if (!opts.connectionSpec) throw new UsageError('test-client needs -s/--connection-spec');
  const stage = STAGE_NAMES[opts.statusStage];
  if (stage === undefined) throw new UsageError(`--status-stage: unknown stage "${opts.statusStage}"`);
  const headers = (opts.addHeader ?? []).map((h) => {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UsageError(`--add-header should be "Name: value": ${h}`);
    return { name: h.slice(0, colon), value: h.slice(colon + 1).replace(/^ /, '') };
  });
  const reply: Reply = { status: opts.status };
  const print = opts.quiet ? () => undefined : (line: string) => void process.stdout.write(`${line}\n`);
  const filter = printingFilter(print, stage, reply, headers);
  const server = new MilterServer(filter, {
    logger: createLogger({ level: opts.verbose ? 'debug' : 'warn' }),
    mode: opts.unixSocketMode ?? '0660',
    ...(opts.unixSocketGroup !== undefined ? { group: opts.unixSocketGroup } : {}),
    timeout: opts.timeout,
    drainTimeout: 5,
  });
  const spec = opts.connectionSpec.startsWith('/') ? `unix:${opts.connectionSpec}` : opts.connectionSpec;
  await server.listen(spec);
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      void server.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  // On stderr: stdout carries only what the MTA sends.
  if (!opts.quiet) process.stderr.write(listeningLine(spec));
  await stopped;
}

/** Where it listens and the main.cf line that reaches it. */
export function listeningLine(spec: string): string {
  const advice = postfixMilterAdvice(spec);
  const note = advice.note === undefined ? '' : ` (${advice.note})`;
  return `test-client: listening on ${spec}; for Postfix, in main.cf: smtpd_milters = ${advice.spec}${note}. Ctrl-C stops it.\n`;
}

let connections = 0;

export function printingFilter(
  print: (line: string) => void,
  replyStage: EventStage | 'all',
  reply: Reply,
  addHeaders: readonly { name: string; value: string }[],
): Filter {
  return {
    name: 'test-client',
    open(): FilterSession {
      const id = ++connections;
      const say = (text: string) => print(`[${id}] ${text}`);
      const macros = (ctx: SessionContext, stage: MacroStage) => {
        for (const [n, v] of ctx.macros.forStage(stage)) say(`  macro: ${n}=${v}`);
      };
      const answer = (stage: EventStage): Reply => (replyStage === 'all' || replyStage === stage ? reply : CONTINUE);
      return {
        negotiate(offer) {
          say(`negotiate: version=${offer.version} actions=[${[...offer.actions].join(',')}]`);
          return capabilitiesFor(offer, { actions: ALL_ACTIONS.filter((a) => a !== 'setMacroLists') });
        },
        connect(info, ctx) {
          const where = info.family === 'unix' ? `path=${info.path ?? ''}` : `address=${info.address ?? ''} port=${info.port ?? 0}`;
          say(`connect: host=${info.hostname} family=${info.family} ${where}`);
          macros(ctx, 'connect');
          return answer('connect');
        },
        helo(name, ctx) {
          say(`helo: ${name}`);
          macros(ctx, 'helo');
          return answer('helo');
        },
        mail(sender, args, ctx) {
          say(`envelope-from: ${[sender, ...args].join(' ')}`);
          macros(ctx, 'mail');
          return answer('mail');
        },
        rcpt(recipient, args, ctx) {
          say(`envelope-recipient: ${[recipient, ...args].join(' ')}`);
          macros(ctx, 'rcpt');
          return answer('rcpt');
        },
        data(ctx) {
          say('data');
          macros(ctx, 'data');
          return answer('data');
        },
        header(name, value) {
          say(`header: ${name}: ${value}`);
          return answer('header');
        },
        endOfHeaders(ctx) {
          say('end-of-header');
          macros(ctx, 'endOfHeaders');
          return answer('endOfHeaders');
        },
        body(chunk) {
          say(`body: ${chunk.length} bytes`);
          return answer('body');
        },
        unknown(command, ctx) {
          say(`unknown: ${command}`);
          macros(ctx, 'unknown');
          return answer('unknown');
        },
        endOfMessage(ctx) {
          say('end-of-message');
          macros(ctx, 'endOfMessage');
          const changes: Change[] = addHeaders.map((h) => ({ kind: 'addHeader', name: h.name, value: h.value }));
          for (const h of addHeaders) say(`  add-header: ${h.name}: ${h.value}`);
          return { reply: answer('endOfMessage'), changes };
        },
        abort() {
          say('abort');
        },
        close() {
          say('close');
        },
      };
    },
  };
}
