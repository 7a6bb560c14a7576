/**
 * milter-manager's stress threshold behind Postfix: 3/4 of the smtp service's process limit
 * (master.cf maxproc, or default_process_limit when it is "-"). 0 (never stressed) without Postfix.
 */
import { execFileSync } from 'node:child_process';

function postconf(args: string[]): string | undefined {
  try {
    return execFileSync('postconf', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return undefined;
  }
}

export function postfixStressThreshold(): number {
  const service = postconf(['-M', 'smtp/inet']);
  const maxproc = service?.split(/\s+/)[6];
  let limit = maxproc !== undefined && /^\d+$/.test(maxproc) ? Number(maxproc) : undefined;
  if (limit === undefined) {
    const def = postconf(['-h', 'default_process_limit']);
    limit = def !== undefined && /^\d+$/.test(def) ? Number(def) : undefined;
  }
  return limit === undefined ? 0 : Math.floor((limit * 3) / 4);
}
