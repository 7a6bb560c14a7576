/** Timeouts towards one milter, in seconds: milter-manager's defaults are 297 / 7 / 7 / 297. */
export interface Timeouts {
  readonly connection: number;
  readonly writing: number;
  readonly reading: number;
  readonly endOfMessage: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = Object.freeze({ connection: 297, writing: 7, reading: 7, endOfMessage: 297 });
