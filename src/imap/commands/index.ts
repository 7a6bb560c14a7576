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
import { compress } from './compress.js';
import { enable } from './enable.js';
import { id } from './id.js';
import { idle } from './idle.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { namespace } from './namespace.js';
import { noop } from './noop.js';
import { examine, select } from './select.js';
import { fetch } from './fetch.js';
import { search } from './search.js';
import { starttls } from './starttls.js';
import { unselect } from './unselect.js';
import { append } from './append.js';
import { copy } from './copy.js';
import { create } from './create.js';
import { deleteCommand } from './delete.js';
import { expunge } from './expunge.js';
import { list } from './list.js';
import { lsub } from './lsub.js';
import { move } from './move.js';
import { getquota, getquotaroot, setquota } from './quota.js';
import { rename } from './rename.js';
import { status } from './status.js';
import { store } from './store.js';
import { subscribe, unsubscribe } from './subscribe.js';

const HANDLERS: readonly AnyCommandHandler[] = [
  capability,
  noop,
  logout,
  starttls,
  compress,
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
  fetch,
  search,
  create,
  deleteCommand,
  rename,
  subscribe,
  unsubscribe,
  list,
  lsub,
  status,
  append,
  store,
  copy,
  move,
  expunge,
  getquota,
  getquotaroot,
  setquota,
];

export const COMMANDS: ReadonlyMap<string, AnyCommandHandler> = new Map(HANDLERS.map((h) => [h.name, h]));
