# shellcheck shell=bash
# Lifecycle checks (sourced by systemd_test.sh): what systemd does to a running carehubd.
# reload re-reads the configuration and a bad one is refused while the daemon keeps running; journald
# keeps the priorities; kill -9 is followed by a restart that loses nothing; a hung daemon (SIGSTOP:
# every thread stops, the watchdog pings too) is killed by the watchdog and restarted; stop flushes
# within TimeoutStopSec.
#
# Each phase starts with `systemctl reset-failed`: the unit allows 5 starts in 10 minutes
# (StartLimitBurst=5), and this test starts it more often than that on purpose.

journal_count() { ct_in journalctl -b -u carehubd -o cat --no-pager | grep -cF -- "$1" || true; }
restarted_since() {  # restarted_since N: systemd restarted carehubd after N restarts and it runs again
  [ "$(unit_prop carehubd NRestarts)" -gt "$1" ] && [ "$(unit_prop carehubd SubState)" = running ]
}
reloaded_times() { [ "$(journal_count 'event=reloaded ')" -ge "$1" ]; }
rejected_once() { journal_has carehubd 'event=reload-rejected'; }

lifecycle_checks() {
  local pid0 restarts0 n0 t0 err
  ct_in systemctl reset-failed carehubd
  phase "reload re-reads the configuration"
  pid0=$(unit_prop carehubd MainPID)
  ct_in sed -i 's/"retry_cap_ms": 1000/"retry_cap_ms": 2000/' "$config"
  if err=$(ct_in systemctl reload carehubd 2>&1); then pass "systemctl reload carehubd"
  else fail "systemctl reload carehubd: $err"; fi
  check_not "no 203/EXEC from ExecReload" journal_has carehubd '203/EXEC'
  wait_for 30 "the daemon reloaded" reloaded_times 1
  check "the same process (a reload, not a restart)" test "$(unit_prop carehubd MainPID)" = "$pid0"

  phase "a bad configuration is refused by reload; the daemon keeps running"
  ct_in sed -i 's|"base_url": "[^"]*"|"base_url": 5|' "$config"
  # ExecReload= checks first: systemctl reload itself fails, and carehubd never sees the bad file.
  check_not "systemctl reload fails on a configuration carehubd would refuse" ct_in systemctl reload carehubd
  wait_for 10 "the journal says what is wrong" journal_has carehubd '/fhir/base_url: expected a string'
  check "still active (running), same process" \
    test "$(unit_prop carehubd SubState) $(unit_prop carehubd MainPID)" = "running $pid0"
  # A SIGHUP that bypasses systemctl (a technician's kill -HUP): carehubd refuses it on its own.
  ct_signal HUP "$pid0"
  wait_for 30 "the daemon refused the new configuration itself (reload-rejected)" rejected_once
  check "still active (running), same process" \
    test "$(unit_prop carehubd SubState) $(unit_prop carehubd MainPID)" = "running $pid0"
  write_config
  check "the good configuration reloads again" ct_in systemctl reload carehubd
  wait_for 30 "the daemon reloaded it" reloaded_times 2

  phase "journald keeps the priorities"
  check "reload-rejected is an error (journalctl -p err)" \
    journal_has carehubd 'event=reload-rejected' -p err
  check_not "reloaded (a notice) is not among the errors" journal_has carehubd 'event=reloaded ' -p err
  check "reloaded is a notice (journalctl -p notice..notice)" journal_has carehubd 'event=reloaded ' -p notice..notice
  check "a warning is a warning (journalctl -p warning..warning)" \
    journal_has carehubd ' event=' -p warning..warning

  phase "kill -9: systemd restarts carehubd and nothing is lost"
  ct_in systemctl reset-failed carehubd
  check "a reading acknowledged just before the crash" \
    ct_as tech carehubctl measure add --kind heart-rate --value 61
  n0=$(readings_count)
  restarts0=$(unit_prop carehubd NRestarts)
  pid0=$(unit_prop carehubd MainPID)
  ct_signal KILL "$pid0"
  wait_for 30 "restarted after kill -9 (Restart=on-failure, RestartSec=5s)" restarted_since "$restarts0"
  check "a new process" test "$(unit_prop carehubd MainPID)" != "$pid0"
  check "every reading still there ($n0)" test "$(readings_count)" = "$n0"

  phase "a hung daemon: the watchdog kills and restarts it"
  # The test lowers WatchdogSec to 3 s in a runtime drop-in (gone at the container's next boot) so the
  # hang is found in seconds; the shipped 30 s is checked by package_test.sh.
  ct_in mkdir -p /run/systemd/system/carehubd.service.d
  ct_in sh -c 'printf "[Service]\nWatchdogSec=3s\n" >/run/systemd/system/carehubd.service.d/test-watchdog.conf'
  ct_in systemctl daemon-reload
  ct_in systemctl reset-failed carehubd
  ct_in systemctl restart carehubd
  check "WatchdogSec=3s in force" test "$(unit_prop carehubd WatchdogUSec)" = 3s
  check "a reading before the hang" ct_as tech carehubctl measure add --kind heart-rate --value 62
  n0=$(readings_count)
  restarts0=$(unit_prop carehubd NRestarts)
  pid0=$(unit_prop carehubd MainPID)
  ct_signal STOP "$pid0"
  wait_for 60 "the watchdog killed the hung daemon and systemd restarted it" restarted_since "$restarts0"
  check "systemd logged the watchdog timeout" journal_has carehubd 'Watchdog timeout'
  check "the watchdog's kill is the unit's result in the journal" journal_has carehubd "Failed with result 'watchdog'"
  check "every reading still there ($n0)" test "$(readings_count)" = "$n0"
  ct_in rm /run/systemd/system/carehubd.service.d/test-watchdog.conf
  ct_in systemctl daemon-reload
  ct_in systemctl reset-failed carehubd
  ct_in systemctl restart carehubd
  check "back to the shipped WatchdogSec=30s" test "$(unit_prop carehubd WatchdogUSec)" = 30s

  phase "systemctl stop flushes within TimeoutStopSec"
  ct_as tech carehubctl measure add --kind heart-rate --value 63
  n0=$(readings_count)
  t0=$SECONDS
  check "systemctl stop carehubd" ct_in systemctl stop carehubd
  check "stopped in $((SECONDS - t0)) s, cleanly (Result=success, exit 0), not by the timeout" \
    test "$(unit_prop carehubd Result) $(unit_prop carehubd ExecMainStatus)" = "success 0"
  # journald reads the daemon's stream on its own time: the last lines may land just after stop returns.
  wait_for 10 "the daemon flushed and said so (event=stopped clean=true)" journal_has carehubd 'event=stopped clean=true'
  check "the metrics file removed at stop" ct_in test ! -e /var/lib/prometheus/node-exporter/carehub.prom
  ct_in systemctl start carehubd
  check "every reading still there after the start ($n0)" test "$(readings_count)" = "$n0"
}
