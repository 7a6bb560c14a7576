/**
 * Header fields the server drops from what a client sends, as Postfix's cleanup(8) does with its default
 * message_drop_headers (bcc, content-length, resent-bcc, return-path): a client's Return-Path would sit
 * below the one local delivery writes and pass for the envelope sender, a Bcc would show every recipient
 * who was meant to stay hidden.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, swaks, type Started } from './harness.js';

let started: Started | undefined;
afterEach(async () => {
  await started?.close();
  started = undefined;
});

describe('dropped header fields', () => {
  it('queues the message without the client\'s Return-Path, Bcc, Resent-Bcc and Content-Length', async () => {
    started = await startServer();
    const r = await swaks(started.port('mx'), [
      '--from', 'someone@remote.example', '--to', 'alice@example.org',
      '--header', 'Subject: drop them',
      '--add-header', 'Return-Path: <forged@evil.example>',
      '--add-header', 'Bcc: hidden@remote.example',
      '--add-header', 'RESENT-BCC: hidden2@remote.example',
      '--add-header', 'Content-Length: 12',
      '--add-header', 'X-Kept: yes',
    ]); // prettier-ignore
    expect(r.exitCode, r.stdout).toBe(0);
    const text = started.spool.messages[0]!.data.toString('latin1');
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    expect(head).toContain('Subject: drop them\r\n');
    expect(head).toContain('X-Kept: yes');
    expect(head).not.toMatch(/^(Return-Path|Bcc|Resent-Bcc|Content-Length):/im);
  });
});
