/**
 * Reading a new password for `mailgate user add|passwd`: from the terminal without echo (asked twice,
 * as passwd(1) does), or with --password-stdin the first line of standard input, for scripts.
 */
import { UsageError } from './options.js';

/** The password, or a UsageError (no terminal and no --password-stdin, an empty password, a mismatch). */
export async function readNewPassword(fromStdin: boolean, subject: string): Promise<string> {
  if (fromStdin) {
    const line = await readLine(process.stdin);
    if (line === '') throw new UsageError('--password-stdin: no password on standard input');
    return line;
  }
  if (!process.stdin.isTTY) throw new UsageError('standard input is not a terminal to ask the password on: use --password-stdin');
  const first = await promptHidden(`New password for ${subject}: `);
  if (first === '') throw new UsageError('empty password');
  const again = await promptHidden('Retype the new password: ');
  if (again !== first) throw new UsageError('the passwords do not match');
  return first;
}

/** The first line of a stream (without CR LF or LF), or all of it when it has no line break. */
function readLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (value: string) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', reject);
      stream.pause();
      resolve(value.replace(/\r$/, ''));
    };
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      const nl = text.indexOf('\n');
      if (nl >= 0) done(text.slice(0, nl));
    };
    const onEnd = () => done(text);
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', reject);
    stream.resume();
  });
}

/** Asks on stderr and reads a line from the terminal in raw mode, echoing nothing. Ctrl-C and Ctrl-D abort. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  // Echo off before the prompt shows, so that nothing typed after seeing it is echoed.
  stdin.setRawMode(true);
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let text = '';
    const finish = (err?: Error) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003' || (ch === '\u0004' && text === '')) return finish(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else if (ch >= ' ') text += ch;
      }
    };
    const onEnd = () => finish(new UsageError('cancelled'));
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
  });
}
