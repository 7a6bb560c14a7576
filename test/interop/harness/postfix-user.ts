// Postfix's unprivileged mail_owner (`postfix`, created by the package): its
// daemons and smtp-sink -u run as this user, so whatever they write must be
// owned by it.
import { execFileSync } from 'node:child_process';

/** uid/gid of the Postfix mail_owner, which smtp-sink switches to. */
export function postfixIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postfix'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}
