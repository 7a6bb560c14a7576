#!/usr/bin/env bash
# Installs the real peers the interop tests talk to (test/interop/**):
# Postfix (MTA client + smtp-sink), swaks (SMTP client), miltertest (Lua MTA
# simulator), opendkim (+ tools for opendkim-genkey), pymilter, and the content
# filters with their back ends: spamass-milter + spamd/spamc (SpamAssassin 4;
# bookworm ships spamd as its own package) and clamav-milter + clamd/clamdscan;
# Redis (the shared greylist store) and rspamd (the rspamd filter's scanner);
# Dovecot (IMAP + LMTP: the mailbox server reading the MTA's Maildir and
# receiving its LMTP deliveries; the tests run PRIVATE instances with their own
# config, and read the mailbox over IMAP with python3's imaplib; dovecot-pop3d is
# the reference the POP3 server's differential test compares against), and
# fetchmail (a real POP3 client; its boot service is disabled as the others), and
# the real IMAP clients of the mailbox server's tests: isync (mbsync, two-way
# sync) and mutt (run under script(1) from bsdutils); neither has a daemon, so
# the boot-service logic below finds nothing of theirs to disable.
# The filters' tests run PRIVATE spamd/clamd instances offline: Debian's
# spamassassin rules load without sa-update, and clamd gets a one-signature
# database, so neither sa-update nor freshclam is ever needed.
#
# Idempotent and non-interactive (safe with no stdin, as in CI). When everything
# is present it only runs dpkg-query, so it finishes well under a second.
# The tests start PRIVATE Postfix instances; the system instance that the
# postfix package starts on install is stopped and disabled here so that it
# neither holds port 25 nor races our instances for anything. So is every
# other daemon these packages start or enable at boot (redis-server, rspamd,
# ...): systemd units and init scripts alike, with or without systemd running.
set -euo pipefail

PACKAGES=(postfix swaks miltertest opendkim opendkim-tools python3-milter
  spamassassin spamd spamc spamass-milter
  clamav-daemon clamav-milter clamdscan
  redis-server rspamd
  dovecot-core dovecot-imapd dovecot-lmtpd dovecot-pop3d
  fetchmail isync mutt)

# What may start at boot: these packages, and the one dependency with a daemon
# of its own (freshclam would fetch signatures). None of their daemons is used;
# the timers would run sa-update / freshclam (network) every day.
BOOT_PACKAGES=("${PACKAGES[@]}" clamav-freshclam)
# Without systemd: the init scripts' pid files, each with the program name its
# process must show (so that a stale pid file never gets a stranger killed).
PID_FILES=(/run/opendkim/opendkim.pid:opendkim /run/spamd.pid:spamd /run/spamass/spamass.pid:spamass-milter
  /run/clamav/clamd.pid:clamd /run/clamav/freshclam.pid:freshclam /run/clamav/clamav-milter.pid:clamav-milter
  /run/redis/redis-server.pid:redis-server /run/rspamd/rspamd.pid:rspamd
  /run/dovecot/master.pid:dovecot /run/fetchmail/fetchmail.pid:fetchmail)
# spamassassin's postinst imports the sa-update signing key with gpg, which
# leaves a gpg-agent running for this keyring.
SA_KEYRING=/var/lib/spamassassin/sa-update-keys

missing_packages() {
  local pkg status
  for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
    # "ii " = installed; anything else (absent, rc, half-installed) needs apt.
    if [[ "$status" != ii* ]]; then
      printf '%s\n' "$pkg"
    fi
  done
}

# The systemd units and init scripts BOOT_PACKAGES ship, as "unit NAME" and
# "init NAME" lines (templates aside: enabled per instance, never by a package).
boot_services() {
  dpkg-query -L "${BOOT_PACKAGES[@]}" 2>/dev/null | sed -nE \
    -e 's#^(/usr)?/lib/systemd/system/([^/@]+\.(service|socket|timer|path))$#unit \2#p' \
    -e 's#^/etc/init\.d/([^/]+)$#init \1#p' | sort -u
}

stop_system_services() {
  # Only act when something is actually running/enabled, to stay fast.
  local kind svc
  local systemd=false disabled=()
  if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then systemd=true; fi
  # Boot links, whether or not systemd runs now (a container image may boot
  # later): update-rc.d turns S links into K links (and disables the unit of
  # the same name), systemctl removes .wants links offline too; package
  # upgrades respect both.
  while read -r kind svc; do
    if [[ $kind == unit ]]; then
      if $systemd && systemctl is-active --quiet "$svc" 2>/dev/null; then
        systemctl stop "$svc" || true
      fi
      if compgen -G "/etc/systemd/system/*.wants/$svc" >/dev/null && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --quiet "$svc" >/dev/null 2>&1 || true
        disabled+=("$svc")
      fi
    elif compgen -G "/etc/rc[2-5].d/S[0-9][0-9]$svc" >/dev/null; then
      update-rc.d "$svc" disable >/dev/null 2>&1 || true
      disabled+=("/etc/init.d/$svc")
    fi
  done < <(boot_services)
  if [[ ${#disabled[@]} -gt 0 ]]; then
    echo "install-test-peers: disabled at boot: ${disabled[*]}"
  fi
  # Without systemd (containers), the package's init script may have started the
  # default instance directly; `postfix status` exits 0 only when it runs.
  if [[ -x /usr/sbin/postfix ]] && /usr/sbin/postfix status >/dev/null 2>&1; then
    /usr/sbin/postfix stop >/dev/null 2>&1 || /usr/sbin/postfix abort >/dev/null 2>&1 || true
  fi
  local entry pidfile name pid
  for entry in "${PID_FILES[@]}"; do
    pidfile=${entry%%:*}
    name=${entry##*:}
    [[ -f $pidfile ]] || continue
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$name"; then
      kill "$pid" 2>/dev/null || true
    fi
  done
  if [[ -S $SA_KEYRING/S.gpg-agent ]] && command -v gpgconf >/dev/null 2>&1; then
    gpgconf --homedir "$SA_KEYRING" --kill gpg-agent >/dev/null 2>&1 || true
  fi
}

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-test-peers: dpkg-query not found; this script supports Debian/Ubuntu only" >&2
  exit 1
fi

mapfile -t missing < <(missing_packages)

if [[ ${#missing[@]} -eq 0 ]]; then
  if [[ $EUID -eq 0 ]]; then
    stop_system_services
  fi
  echo "install-test-peers: all present (${PACKAGES[*]})"
  exit 0
fi

if [[ $EUID -ne 0 ]]; then
  echo "install-test-peers: missing packages: ${missing[*]}" >&2
  echo "install-test-peers: run as root (or: sudo apt-get install -y --no-install-recommends ${missing[*]})" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# postfix's debconf questions: answer them up front so nothing ever prompts.
if command -v debconf-set-selections >/dev/null 2>&1; then
  debconf-set-selections <<'DEBCONF'
postfix postfix/main_mailer_type select No configuration
postfix postfix/mailname string localhost
DEBCONF
fi

# policy-rc.d exit 101 forbids maintainer scripts from starting services
# (Debian's invoke-rc.d convention); restore whatever was there afterwards.
POLICY=/usr/sbin/policy-rc.d
policy_backup=""
if [[ -e $POLICY ]]; then
  policy_backup=$(mktemp)
  cp -p "$POLICY" "$policy_backup"
fi
restore_policy() {
  if [[ -n $policy_backup ]]; then
    mv -f "$policy_backup" "$POLICY"
  else
    rm -f "$POLICY"
  fi
}
trap restore_policy EXIT
printf '#!/bin/sh\nexit 101\n' >"$POLICY"
chmod 0755 "$POLICY"

apt-get update </dev/null
apt-get install -y --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${PACKAGES[@]}" </dev/null

stop_system_services

mapfile -t still_missing < <(missing_packages)
if [[ ${#still_missing[@]} -ne 0 ]]; then
  echo "install-test-peers: still missing after apt-get: ${still_missing[*]}" >&2
  exit 1
fi
echo "install-test-peers: installed ${missing[*]}"
