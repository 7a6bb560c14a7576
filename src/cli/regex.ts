/** `mailgate regex test PATTERN`: shows what a rule's pattern matches before it goes live (placeholder). */
import { Command } from 'commander';

export function regexCommand(): Command {
  return new Command('regex').description('try regular expressions for rules (not written yet)');
}
