# shellcheck shell=bash
# Upgrade, remove and purge checks (sourced by systemd_test.sh), with apt inside the container: an
# upgrade to a newer .deb restarts the running daemon and keeps the buffer, the configuration and the
# secret; remove keeps them; purge removes them.

upgrade_checks() {
  local n0 pid0 web_pid0
  phase "upgrade to $deb_new"
  ct_in systemctl reset-failed carehubd
  n0=$(readings_count)
  pid0=$(unit_prop carehubd MainPID)
  web_pid0=$(unit_prop carehub-web MainPID)
  if ct_in env DEBIAN_FRONTEND=noninteractive apt-get install -y "/srv/debs/$deb_new" >"$work/apt-upgrade.log" 2>&1; then
    pass "apt-get install ./$deb_new"
  else
    fail "apt-get install ./$deb_new"; cat "$work/apt-upgrade.log" >&2
  fi
  check "version $newer installed" test "$(ct_in dpkg-query -W -f '${Version}' carehub)" = "$newer"
  check "restarted with the new binary, running" \
    test "$(unit_prop carehubd SubState)" = running -a "$(unit_prop carehubd MainPID)" != "$pid0"
  check "configuration kept" ct_in grep -q "\"base_url\": \"http://127.0.0.1:$fhir_port/fhir/R4\"" "$config"
  check "secret kept" test "$(ct_in cat /etc/credstore/carehub.fhir-client-secret)" = "$fhir_secret"
  check "buffer kept ($n0 readings)" test "$(readings_count)" = "$n0"
  check "/etc/carehub still root:carehub 0750" test "$(ct_in stat -c '%U:%G %a' /etc/carehub)" = "root:carehub 750"
  check_not "no ConfigurationDirectory mode warning in this boot" \
    journal_has carehubd 'already exists but the mode is different'
  check "sync still works after the upgrade" ct_as tech carehubctl sync now --wait 30
  check "carehub-web restarted with the new binary, running" \
    test "$(unit_prop carehub-web SubState)" = running -a "$(unit_prop carehub-web MainPID)" != "$web_pid0"
  check "carehub-web's secret kept" ct_in test -s /etc/credstore/carehub-web.technician-password-hash

  phase "apt-get remove keeps the buffer, the configuration and the secret"
  ct_in env DEBIAN_FRONTEND=noninteractive apt-get remove -y carehub >"$work/apt-remove.log" 2>&1 ||
    { fail "apt-get remove"; cat "$work/apt-remove.log" >&2; }
  check "carehubd stopped" test "$(unit_prop carehubd ActiveState)" != active
  check "carehub-web stopped" test "$(unit_prop carehub-web ActiveState)" != active
  check "buffer kept" ct_in test -s /var/lib/carehub/buffer.db
  check "configuration kept" ct_in grep -q '"id": "hub-0042"' "$config"
  check "secret kept" ct_in test -s /etc/credstore/carehub.fhir-client-secret

  phase "apt-get purge removes them"
  ct_in env DEBIAN_FRONTEND=noninteractive apt-get purge -y carehub >"$work/apt-purge.log" 2>&1 ||
    { fail "apt-get purge"; cat "$work/apt-purge.log" >&2; }
  check "buffer removed" ct_in test ! -e /var/lib/carehub
  check "configuration removed" ct_in test ! -e /etc/carehub
  check "secret removed" ct_in test ! -e /etc/credstore/carehub.fhir-client-secret
  check "carehub-web's state removed" ct_in test ! -e /var/lib/carehub-web
  check "carehub-web's secret removed" ct_in test ! -e /etc/credstore/carehub-web.technician-password-hash
  check "units gone" test "$(unit_prop carehubd LoadState) $(unit_prop carehub-web LoadState)" = "not-found not-found"
  check "boot links gone" ct_in test ! -e /etc/systemd/system/multi-user.target.wants/carehubd.service \
    -a ! -e /etc/systemd/system/multi-user.target.wants/carehub-web.service
}
