/**
 * Node keeps a timer's delay as a signed 32-bit count of milliseconds: a longer one (30 days, 1e300)
 * silently fires after 1 ms, with only a TimeoutOverflowWarning on stderr. A timeout meant to be
 * generous would then give every session its fallback at once. So the configuration refuses
 * durations above the limit, and every timer in the code takes its delay through timerDelay().
 * It lives here, in the lowest layer that needs the limit (the configuration checks against it).
 */

/** The longest delay a Node timer holds: 2^31 − 1 ms, about 24.8 days. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The longest duration, in whole seconds, a configuration key may give (2,147,483 s). */
export const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

/**
 * A delay Node will honour: too long becomes the longest it can hold (never 1 ms), below 1 or NaN
 * becomes 1 ms (what Node does anyway, said here so that nothing depends on it silently).
 */
export function timerDelay(ms: number): number {
  if (Number.isNaN(ms) || ms < 1) return 1;
  return Math.min(ms, MAX_TIMER_MS);
}
