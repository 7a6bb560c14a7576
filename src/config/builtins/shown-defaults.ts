/**
 * What `show-config` prints for a built-in filter's keys that the file leaves out: the filter's own
 * default, taken from the same constants its option reader uses, or why there is none. Some defaults
 * follow other keys as written (reject_ecode follows reject_code, score_reply follows score_action).
 * A test parses every value back and checks the reader arrives at the same options.
 */
import { join } from 'node:path';
import { SENDER_AUTH_DEFAULTS } from './sender-auth.js';
import { CLAMAV_DEFAULTS } from './clamav.js';
import { DEFAULT_GREYLIST_REDIS_PREFIX, DEFAULT_GREYLIST_REDIS_URL } from './greylist.js';
import type { BuiltinName } from './index.js';
import { RSPAMD_DEFAULTS } from './rspamd.js';
import { RULES_DEFAULTS } from './rules.js';
import { SPAMASSASSIN_DEFAULTS } from './spamassassin.js';

/** A default value (a TOML value), or a note for a key that is unset by default or does not apply. */
export type ShownDefault = { readonly value: unknown } | { readonly note: string };

type Written = Readonly<Record<string, unknown>>;

const v = (value: unknown): ShownDefault => ({ value });
const unset = (why: string): ShownDefault => ({ note: why });

/** The greylist SQLite file's default name inside data_dir (store/greylist/open.ts's DEFAULT_SQLITE_FILE). */
export const GREYLIST_SQLITE_FILE = 'greylist.sqlite';

const SHOWN: { readonly [K in BuiltinName]: (written: Written, dataDir: string) => Record<string, ShownDefault> } = {
  greylist: (written, dataDir) => ({
    conf: unset(Object.hasOwn(written, 'conf_text') ? 'conf_text is used' : 'give conf or conf_text'),
    conf_text: unset(Object.hasOwn(written, 'conf') ? 'conf is used' : 'give conf or conf_text'),
    store: v('sqlite'),
    redis_url: v(DEFAULT_GREYLIST_REDIS_URL),
    redis_prefix: v(DEFAULT_GREYLIST_REDIS_PREFIX),
    sqlite_file: v(join(dataDir, GREYLIST_SQLITE_FILE)),
  }),
  spamassassin: (written) => {
    const D = SPAMASSASSIN_DEFAULTS;
    const code = typeof written['reject_code'] === 'number' ? written['reject_code'] : D.rejectCode;
    const timeout = typeof written['timeout'] === 'number' ? written['timeout'] : D.timeout;
    return {
      spamd: v(D.spamd),
      user: unset("spamd's own (the user spamd runs as)"),
      reject_score: unset('never refuse: mark only'),
      reject_code: v(D.rejectCode),
      reject_ecode: v(`${String(code)[0]}${D.rejectEcode.slice(1)}`),
      reject_text: v(D.rejectText),
      modify_message: v(D.modifyMessage),
      max_size: v(D.maxSize),
      skip_authenticated: v(D.skipAuthenticated),
      skip_networks: v([]),
      on_fail: v(D.onFail),
      timeout: v(D.timeout),
      connect_timeout: v(Math.min(D.connectTimeout, timeout)),
    };
  },
  rspamd: () => {
    const D = RSPAMD_DEFAULTS;
    return {
      url: v(D.url),
      socket: unset('the url is used'),
      password: unset('none sent'),
      timeout: v(D.timeoutSeconds),
      on_fail: v(D.onFail),
      max_size: v(D.maxSize),
      skip_authenticated: v(false),
      skip_networks: v([]),
      reject_message: v(D.rejectMessage),
      tempfail_message: v(D.tempfailMessage),
      greylist_action: v(D.greylistAction),
      spam_header: v(D.spamHeader),
      rewrite_subject: v(D.rewriteSubject),
      score_header: unset('no score header'),
      result_header: unset('no result header'),
      milter_block: v(true),
      pass_all: v(false),
    };
  },
  clamav: () => {
    const D = CLAMAV_DEFAULTS;
    return {
      clamd: v(D.clamd),
      on_infected: v(D.onInfected),
      on_fail: v(D.onFail),
      add_header: v(D.addHeader),
      reject_msg: v(D.rejectMsg),
      max_file_size: v(D.maxFileSize),
      local_net: v([]),
      skip_authenticated: v(false),
      report_hostname: unset("this machine's name"),
      connect_timeout: v(D.connectTimeout),
      read_timeout: v(D.readTimeout),
      keep_alive: v(D.keepAlive),
    };
  },
  'sender-auth': () => {
    const D = SENDER_AUTH_DEFAULTS;
    return {
      authserv_id: unset("this machine's name"),
      spf: v(D.spf),
      spf_reject_fail: v(D.spfRejectFail),
      spf_reject_permerror: v(D.spfRejectPermerror),
      spf_defer_temperror: v(D.spfDeferTemperror),
      spf_skip_networks: v([...D.spfSkipNetworks]),
      received_spf_header: v(D.receivedSpfHeader),
      skip_authenticated: v(D.skipAuthenticated),
      verify: v(D.verify),
      dmarc_reject: v(D.dmarcReject),
      max_message_size: v(D.maxMessageSize),
      min_key_bits: v(D.minKeyBits),
      check_timeout: v(D.checkTimeout),
      sign: unset('no signing keys'),
      sign_networks: v([...D.signNetworks]),
      sign_authenticated: v(D.signAuthenticated),
    };
  },
  rules: (written) => {
    const action = typeof written['score_action'] === 'string' ? written['score_action'] : RULES_DEFAULTS.scoreAction;
    return {
      rule: unset('no rules'),
      score_threshold: unset('no score rules'),
      score_action: v(RULES_DEFAULTS.scoreAction),
      score_reply:
        action === 'reject' ? v(RULES_DEFAULTS.rejectReply) : action === 'tempfail' ? v(RULES_DEFAULTS.tempfailReply) : unset(`not used with score_action = "${action}"`),
      score_header: action === 'add_header' ? v(RULES_DEFAULTS.scoreHeader) : unset(`used only with score_action = "add_header" (${RULES_DEFAULTS.scoreHeader})`),
      max_body_size: v(RULES_DEFAULTS.maxBodySize),
      max_text_size: v(RULES_DEFAULTS.maxTextSize),
      match_timeout: v(RULES_DEFAULTS.matchTimeout),
    };
  },
};

/** Every option key of `builtin` with its default as show-config prints it, given the keys written. */
export function shownDefaults(builtin: BuiltinName, written: Written, dataDir: string): Readonly<Record<string, ShownDefault>> {
  return SHOWN[builtin](written, dataDir);
}
