/** [submission]: where a domain's own users send mail (AUTH required): STARTTLS listeners and implicit-TLS ones. */
import { DEFAULT_SUBMISSION } from '../defaults.js';
import type { TableReader } from '../reader.js';
import type { SubmissionConfig } from '../schema.js';
import { readListen } from './listen.js';

export const SUBMISSION_KEYS = ['listen', 'tls_listen'] as const;

export function readSubmission(r: TableReader): SubmissionConfig {
  r.checkKeys(SUBMISSION_KEYS);
  return {
    listen: readListen(r, 'listen') ?? [...DEFAULT_SUBMISSION.listen],
    tlsListen: readListen(r, 'tls_listen') ?? [...DEFAULT_SUBMISSION.tlsListen],
  };
}
