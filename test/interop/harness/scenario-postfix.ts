// The private Postfix that the scenario files in test/smtp/scenarios/ are written for (their "needs"),
// the reference side of the differential tests: no client is trusted (mynetworks excludes loopback,
// as Mailgate's `mynetworks = []`), local.example stands for a local domain (relay_domains: anyone may
// send to it, any local part), at most 3 recipients per message, relay refused with
// reject_unauth_destination (554 5.7.1; Postfix's default defer_unauth_destination would say 454),
// HELO/EHLO required before MAIL (as Mailgate always does),
// and no error back-off so that the 5xx replies come at once. STARTTLS is offered (a throw-away
// self-signed certificate), as Mailgate's MX listener offers it; a bare LF ends a line
// (smtpd_forbid_bare_newline = normalize, Postfix 3.9's default and Mailgate's behaviour; 3.7's
// default "no" takes it as a line end too, but this says so). Accepted mail goes to its smtp-sink.
import { join } from 'node:path';
import { startPostfix, type Postfix } from './postfix.js';
import { runCommand } from './process.js';
import type { ScenarioTarget } from './smtp-scenario.js';
import { makeTempDir } from './tmpdir.js';

export const SCENARIO_POSTFIX_PARAMS: Readonly<Record<string, string>> = {
  mynetworks: '192.0.2.0/24',
  relay_domains: 'local.example',
  smtpd_relay_restrictions: 'permit_mynetworks, reject_unauth_destination',
  smtpd_recipient_limit: '3',
  smtpd_error_sleep_time: '0',
  // Mailgate (smtp-server) always wants HELO/EHLO before MAIL.
  smtpd_helo_required: 'yes',
  // stall-mid-data.json: a client idle this long is cut off with 421 4.4.2 (Mailgate: idle_timeout = 3).
  smtpd_timeout: '3s',
  // oversized.json (Mailgate: message_size_limit = 10000).
  message_size_limit: '10000',
  smtpd_tls_security_level: 'may',
  smtpd_forbid_bare_newline: 'normalize',
  smtpd_forbid_bare_newline_exclusions: '',
};

/** The scenario variables for that Postfix. */
export const SCENARIO_POSTFIX_VARS: Readonly<Record<string, string>> = {
  helo: 'client.example',
  local_user: 'user@local.example',
  local_user_2: 'user2@local.example',
  local_user_3: 'user3@local.example',
  local_user_4: 'user4@local.example',
  remote_domain: 'remote.example',
};

/** Starts it; `extra` overrides parameters (e.g. { mynetworks: '127.0.0.0/8' }). */
export async function startScenarioPostfix(extra: Record<string, string> = {}): Promise<Postfix> {
  const tls = await makeTempDir('scenario-tls');
  const [cert, key] = [join(tls.path, 'cert.pem'), join(tls.path, 'key.pem')];
  const r = await runCommand('/usr/bin/openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=mailgate-test.localdomain', '-keyout', key, '-out', cert,
  ]);
  if (r.exitCode !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  let pf: Postfix;
  try {
    pf = await startPostfix({ milterSpec: '', extra: { ...SCENARIO_POSTFIX_PARAMS, smtpd_tls_cert_file: cert, smtpd_tls_key_file: key, ...extra } });
  } catch (err) {
    await tls.remove();
    throw err;
  }
  return {
    ...pf,
    async stop() {
      await pf.stop();
      await tls.remove();
    },
  };
}

export function postfixTarget(pf: Postfix, name = 'postfix'): ScenarioTarget {
  return { name, port: pf.port, vars: { ...SCENARIO_POSTFIX_VARS } };
}
