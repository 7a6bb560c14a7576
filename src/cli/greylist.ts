/** `mailgate greylist list|dump|flush`: the greylist store of the configured greylist filter (placeholder). */
import { Command } from 'commander';

export function greylistCommand(): Command {
  return new Command('greylist').description('show or flush the greylist database (not written yet)');
}
