/**
 * Names for the files COPY, MOVE and APPEND make: `<secs>.M<usecs>P<pid>C<n>.<host>,S=<size>,W=<vsize>`.
 * The counter makes every name from this process distinct from every other (the delivery writer's names
 * have no C), so a rename into a folder can never land on an existing file; the pid separates processes.
 */
import { escapeMaildirHost } from '../maildir/maildir-name.js';

let counter = 0;

export function newMessageBase(host: string, size: number, vsize: number): string {
  const us = Date.now() * 1000;
  counter = (counter + 1) % 1_000_000_000;
  return `${Math.floor(us / 1e6)}.M${us % 1e6}P${process.pid}C${counter}.${escapeMaildirHost(host)},S=${size},W=${vsize}`;
}
