// The private Postfix that the scenario files in test/smtp/scenarios/ are written for (their "needs"),
// the reference side of the differential tests: no client is trusted (mynetworks excludes loopback,
// as Mailgate's `mynetworks = []`), local.example stands for a local domain (relay_domains: anyone may
// send to it, any local part), at most 3 recipients per message, relay refused with
// reject_unauth_destination (554 5.7.1; Postfix's default defer_unauth_destination would say 454),
// and no error back-off so that the 5xx replies come at once. Accepted mail goes to its smtp-sink.
import { startPostfix, type Postfix } from './postfix.js';
import type { ScenarioTarget } from './smtp-scenario.js';

export const SCENARIO_POSTFIX_PARAMS: Readonly<Record<string, string>> = {
  mynetworks: '192.0.2.0/24',
  relay_domains: 'local.example',
  smtpd_relay_restrictions: 'permit_mynetworks, reject_unauth_destination',
  smtpd_recipient_limit: '3',
  smtpd_error_sleep_time: '0',
};

/** The scenario variables for that Postfix. */
export const SCENARIO_POSTFIX_VARS: Readonly<Record<string, string>> = {
  helo: 'client.example',
  local_user: 'user@local.example',
  remote_domain: 'remote.example',
};

/** Starts it; `extra` overrides parameters (e.g. { mynetworks: '127.0.0.0/8' }). */
export function startScenarioPostfix(extra: Record<string, string> = {}): Promise<Postfix> {
  return startPostfix({ milterSpec: '', extra: { ...SCENARIO_POSTFIX_PARAMS, ...extra } });
}

export function postfixTarget(pf: Postfix, name = 'postfix'): ScenarioTarget {
  return { name, port: pf.port, vars: { ...SCENARIO_POSTFIX_VARS } };
}
