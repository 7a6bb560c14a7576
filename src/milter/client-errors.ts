/** Why a remote milter failed: the caller (the chain) maps each to the child's fallback status. */
export type MilterFailure = 'connect' | 'timeout' | 'closed' | 'protocol';

export class MilterClientError extends Error {
  override readonly name = 'MilterClientError';
  constructor(
    readonly failure: MilterFailure,
    readonly milter: string,
    readonly stage: string,
    detail: string,
  ) {
    super(failure === 'connect' ? `milter ${milter}: cannot connect: ${detail}` : `milter ${milter}: ${failure} at ${stage}: ${detail}`);
  }
}
