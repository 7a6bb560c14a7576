/** What one test-server session sends: milter-test-server's defaults, overridden by options. */
import type { ConnectionInfo } from '../../mail/connection.js';
import type { Header } from '../../mail/header-list.js';

export type MacroPairs = readonly (readonly [string, string])[];

export interface SessionPlan {
  readonly negotiateVersion: number;
  readonly connect: ConnectionInfo;
  readonly helo: string;
  readonly from: string;
  readonly recipients: readonly string[];
  readonly headers: readonly Header[];
  readonly bodyChunks: readonly Buffer[];
  readonly unknown?: string;
  readonly macros: {
    readonly connect: MacroPairs;
    readonly helo: MacroPairs;
    readonly mail: MacroPairs;
    readonly rcpt: MacroPairs;
    readonly data: MacroPairs;
    readonly endOfHeaders: MacroPairs;
    readonly endOfMessage: MacroPairs;
  };
}

export const DEFAULT_BODY = 'La de da de da 1.\nLa de da de da 2.\nLa de da de da 3.\nLa de da de da 4.';
