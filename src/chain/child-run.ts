/** One child's part in one SMTP session. */
import type { Capabilities, FilterSession, SessionContext } from '../mail/filter.js';
import type { Macros } from '../mail/macros.js';
import type { Change } from '../mail/changes.js';
import type { Reply, Status } from '../mail/reply.js';
import type { ChildDefinition } from './chain.js';
import { ChildMacros } from './child-macros.js';
import type { MessageFeed } from './message-feed.js';

/** How a child's part in a message ended: a verdict ending the message, or its changes (none when it accepted or was stopped). */
export interface ChildOutcome {
  readonly verdict?: Reply;
  readonly changes: readonly Change[];
}

export class ChildRun {
  session: FilterSession | undefined;
  caps: Capabilities | undefined;
  readonly macros: ChildMacros;
  readonly ctx: SessionContext;
  /** Failed (died, timed out, broke protocol): dropped for the rest of the session. */
  dead = false;
  /** Its part in the session is over (accepted or refused at connect/helo, or stopped there). */
  sessionDone = false;
  /** Its part in the current message is over. */
  messageDone = false;
  /** In the current message: did it receive MAIL (so that it is owed an abort)? */
  inMessage = false;
  acceptedRecipients = 0;
  /** The last status it answered, for the session statistics. */
  lastStatus: Status | 'fallback' | 'stopped' | undefined;
  /** Set while the current message is streamed to it as the MTA sends it (ChainSession.startFeeds). */
  feed: MessageFeed<ChildOutcome> | undefined;
  /** End of headers has been passed to it (sent, or left out), and its conditions asked before the body. */
  headersDone = false;
  /** It answered skip to a body chunk: no more body for this message. */
  bodySkipped = false;

  constructor(
    readonly def: ChildDefinition,
    base: Macros,
    progress: () => Promise<void>,
  ) {
    this.macros = new ChildMacros(base);
    this.ctx = { macros: this.macros, progress };
  }

  /** Taking part in the session at all. */
  get live(): boolean {
    return !this.dead && !this.sessionDone && this.session !== undefined;
  }

  /** Taking part in the current message. */
  get inPlay(): boolean {
    return this.live && !this.messageDone;
  }

  resetMessage(): void {
    this.messageDone = false;
    this.inMessage = false;
    this.acceptedRecipients = 0;
    this.macros.clearMessage();
    this.feed = undefined;
    this.headersDone = false;
    this.bodySkipped = false;
  }
}
