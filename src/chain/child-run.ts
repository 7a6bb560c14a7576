/** One child's part in one SMTP session. */
import type { Capabilities, FilterSession, SessionContext } from '../mail/filter.js';
import type { Macros } from '../mail/macros.js';
import type { Status } from '../mail/reply.js';
import type { ChildDefinition } from './chain.js';
import { ChildMacros } from './child-macros.js';

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
  }
}
