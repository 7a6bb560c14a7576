/**
 * The dispatch table: command name → handler (commands/<name>.ts, one file per command). `UID <name>` is
 * dispatched to the same handler with `uid: true` when it declares `uidForm`. A command added here is
 * live; its capability (if any) goes in capabilities.ts the same day.
 */
import type { AnyCommandHandler } from '../command.js';
import { authenticate } from './authenticate.js';
import { capability } from './capability.js';
import { check } from './check.js';
import { close } from './close.js';
import { enable } from './enable.js';
import { id } from './id.js';
import { idle } from './idle.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { namespace } from './namespace.js';
import { noop } from './noop.js';
import { examine, select } from './select.js';
import { starttls } from './starttls.js';
import { unselect } from './unselect.js';

const HANDLERS: readonly AnyCommandHandler[] = [
  capability,
  noop,
  logout,
  starttls,
  authenticate,
  login,
  id,
  enable,
  namespace,
  idle,
  check,
  close,
  unselect,
  select,
  examine,
];

export const COMMANDS: ReadonlyMap<string, AnyCommandHandler> = new Map(HANDLERS.map((h) => [h.name, h]));
