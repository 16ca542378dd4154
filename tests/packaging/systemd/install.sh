# shellcheck shell=bash
# Install checks (sourced by systemd_test.sh): apt installs the .deb inside the booted container, the
# user, group and directories exist with the modes the unit expects, carehubd is enabled but refuses to
# run until the technician has filled /hub/id and /hub/patient (also across a boot), then starts through
# READY=1. systemd-analyze judges the installed unit inside (online security, verify).

config=/etc/carehub/carehubd.json

# unit_prop UNIT PROPERTY: one property's value from systemctl show.
unit_prop() { ct_in systemctl show -P "$2" "$1"; }
# journal_has UNIT TEXT [journalctl options]: TEXT in this boot's journal of UNIT (messages only).
# A process's last lines reach journald through its stream after it exited: wait_for them.
# grep reads to the end (no -q): with pipefail, journalctl killed by SIGPIPE would fail the match.
journal_has() {
  local unit=$1 text=$2; shift 2
  ct_in journalctl -b -u "$unit" -o cat --no-pager "$@" | grep -F -- "$text" >/dev/null
}

install_checks() {
  phase "install: apt-get install ./$deb_old inside the container"
  # The container has no network (--private-network): every dependency must already be in the cached root.
  if ct_in env DEBIAN_FRONTEND=noninteractive apt-get install -y "/srv/debs/$deb_old" >"$work/apt-install.log" 2>&1; then
    pass "apt-get install ./$deb_old"
  else
    fail "apt-get install ./$deb_old"; cat "$work/apt-install.log" >&2; return 1
  fi
  check "postinst says enabled but not started" grep -q 'carehubd is enabled but not started' "$work/apt-install.log"
  check "carehub user" ct_in getent passwd carehub
  check "carehub group" ct_in getent group carehub
  check "bluetooth group (SupplementaryGroups=)" ct_in getent group bluetooth
  check "/var/lib/carehub carehub:carehub 0750 (StateDirectoryMode=)" \
    test "$(ct_in stat -c '%U:%G %a' /var/lib/carehub)" = "carehub:carehub 750"
  check "/etc/carehub root:carehub 0750 (ConfigurationDirectoryMode=)" \
    test "$(ct_in stat -c '%U:%G %a' /etc/carehub)" = "root:carehub 750"
  check "/etc/credstore root 0700" test "$(ct_in stat -c '%U %a' /etc/credstore)" = "root 700"
  check "enabled" test "$(ct_in systemctl is-enabled carehubd)" = enabled
  check "not started by the install" test "$(unit_prop carehubd ActiveState)" = inactive
  web_install_checks

  phase "unconfigured: a start is refused with the key to fill in, also at boot"
  if ct_in systemctl start carehubd 2>"$work/start-unconfigured.err"; then
    fail "systemctl start refused while /hub/id is empty"
  else
    pass "systemctl start refused while /hub/id is empty"
  fi
  wait_for 10 "the journal names /hub/id" journal_has carehubd '/hub/id: must not be empty'
  # Deterministic: right after a failed start systemd has either given up (failed) or scheduled the
  # next attempt (auto-restart). A configuration the daemon refuses does not fix itself by restarting.
  check "no restart scheduled (SubState failed, not auto-restart)" test "$(unit_prop carehubd SubState)" = failed
  check "refused with exit status 2 (RestartPreventExitStatus=2)" test "$(unit_prop carehubd ExecMainStatus)" = 2
  ct_in systemctl reset-failed carehubd

  # The hub reboots before the technician comes: carehubd must stay off and say why. The boot is then
  # degraded with carehubd the one failed unit: an installed but unconfigured hub does not work, and
  # monitoring (systemctl --failed) should see it.
  ct_halt
  ct_boot "$cached" "$work/ct" "${boot_args[@]}"
  check "unconfigured boot: carehubd failed, no restart scheduled" test "$(unit_prop carehubd SubState)" = failed
  wait_for 10 "unconfigured boot: the journal names /hub/id" journal_has carehubd '/hub/id: must not be empty'
  check "unconfigured boot: degraded, carehubd the only failed unit" \
    test "$ct_state $(ct_in systemctl list-units --failed --plain --no-legend | awk '{print $1}' | xargs)" = "degraded carehubd.service"
  ct_in systemctl reset-failed carehubd

  phase "the technician fills /hub/id and /hub/patient; systemctl start reaches active (running)"
  ct_in sed -i 's|"id": ""|"id": "hub-0042"|; s|"patient": ""|"patient": "Patient/12345"|' "$config"
  check "carehubctl config check passes" ct_in carehubctl config check "$config"
  if ct_in systemctl start carehubd 2>"$work/start.err"; then pass "systemctl start carehubd"
  else fail "systemctl start carehubd"; cat "$work/start.err" >&2; fi
  check "active (running)" test "$(unit_prop carehubd ActiveState)/$(unit_prop carehubd SubState)" = active/running
  # Type=notify: start returned only once READY=1 arrived; the STATUS= sent with it is the proof.
  local status_text
  status_text=$(unit_prop carehubd StatusText)
  check "READY=1 with a status line ('$status_text')" test -n "$status_text"
  check_not "no ConfigurationDirectory mode warning at start" journal_has carehubd 'already exists but the mode is different'

  phase "systemd-analyze inside the container"
  local security score
  security=$(ct_in systemd-analyze security --threshold=20 carehubd.service 2>&1) && rc=0 || rc=$?
  score=$(sed -n 's/.*Overall exposure level for carehubd.service: \([0-9.]*\).*/\1/p' <<<"$security")
  if [ "$rc" -eq 0 ] && [ -n "$score" ]; then pass "online exposure $score <= 2.0"
  else fail "online exposure ${score:-unknown} > 2.0 (rc $rc)"; echo "$security" >&2; fi
  local verify
  if verify=$(ct_in systemd-analyze verify --man=no carehubd.service 2>&1) && [ -z "$verify" ]; then
    pass "systemd-analyze verify clean"
  else fail "systemd-analyze verify"; echo "$verify" >&2; fi
}
