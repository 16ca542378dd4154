#!/usr/bin/env bash
# The hub under a real systemd (issue 19): boots Debian 12 in a container (systemd-nspawn), installs the
# .deb cpack builds with apt, and checks what carehubd.service promises while systemd runs it: the
# install (user, group, enabled but not started unconfigured), the notify start, the daemon at work in
# its sandbox (carehubctl over the socket, MQTT, FHIR upload with a LoadCredential= secret, BlueZ over
# the system bus), reload, restart after a crash, the watchdog, the flush on stop, journald's priorities,
# systemd-analyze security and verify inside, then an upgrade and a purge.
#   systemd_test.sh BUILD_DIR SOURCE_DIR
# Needs root (nspawn, overlay mounts), systemd-container, debootstrap and node (the FHIR peer); the
# first run makes the cached root (container.sh), later runs reuse it.
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/carehub-systemd-XXXXXX)
failures=0
started=$SECONDS
journal_copy=$build/tests/packaging/systemd-test-journal.log

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
check() {  # check DESCRIPTION COMMAND...: passes when the command succeeds
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
check_not() {  # check_not DESCRIPTION COMMAND...: passes when the command fails (its stderr is dropped)
  local what=$1; shift
  if "$@" 2>/dev/null; then fail "$what"; else pass "$what"; fi
}
phase() { echo "== $* (at $((SECONDS - started)) s)"; }
# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND (every 0.2 s) until it succeeds (pass) or the
# deadline passes (fail). For states only systemd knows (a restart, a watchdog kill) there is nothing
# to block on. Returns 0 either way: the failure is counted, the run goes on to show the rest.
wait_for() {
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit)) t0=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -gt "$deadline" ]; then fail "$what (not within $limit s)"; return 0; fi
    sleep 0.2
  done
  pass "$what ($((SECONDS - t0)) s)"
}

# shellcheck source=container.sh
source "$here/container.sh"
# shellcheck source=install.sh
source "$here/install.sh"
# shellcheck source=runtime.sh
source "$here/runtime.sh"
# shellcheck source=lifecycle.sh
source "$here/lifecycle.sh"
# shellcheck source=web.sh
source "$here/web.sh"
# shellcheck source=upgrade.sh
source "$here/upgrade.sh"

finish() {
  local status=$?
  if [ "$failures" -gt 0 ] || [ "$status" -ne 0 ]; then
    if [ -n "$ct_pid" ]; then
      echo "--- carehubd's journal (last 80 lines; the container's whole journal: $journal_copy)" >&2
      ct_in journalctl -u carehubd -u 'carehub-*' --no-pager -n 80 >&2 || true
    fi
  fi
  # The container's whole journal (every boot) beside the build tree, kept after the container is gone.
  [ -z "$ct_pid" ] || ct_in journalctl --no-pager -o short-monotonic >"$journal_copy" 2>&1 || true
  ct_cleanup
  rm -rf "$work"
  echo "systemd test: $((SECONDS - started)) s"
}
trap finish EXIT
trap 'exit 143' TERM INT  # through finish: the container halted, the overlay unmounted

[ "$(id -u)" -eq 0 ] || { echo "FAIL: the systemd test needs root (nspawn, overlay mounts)" >&2; exit 1; }
for tool in systemd-nspawn debootstrap nsenter ip cpack dpkg-deb curl jq node; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
[ -x "$build/daemon/carehubd" ] || { echo "FAIL: $build/daemon/carehubd not built" >&2; exit 1; }

phase "build the package, and a newer version of it for the upgrade"
mkdir -p "$work/debs"
(cd "$work" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/cpack" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; echo "FAIL: cpack" >&2; exit 1; }
cp "$work"/cpack/carehub_*.deb "$work/debs/"
deb_old=$(basename "$(ls "$work"/debs/carehub_*.deb)")
version=$(dpkg-deb --field "$work/debs/$deb_old" Version)
# The same contents under a higher version (a second cpack would strip the binaries again for nothing):
# what the upgrade exercises is dpkg's and the maintainer scripts' path, not new code.
newer="$version+systemdtest1"
dpkg-deb --raw-extract "$work/debs/$deb_old" "$work/newer"
sed -i "s/^Version: .*/Version: $newer/" "$work/newer/DEBIAN/control"
dpkg-deb --root-owner-group --build "$work/newer" "$work/debs/" >/dev/null
deb_new=$(basename "$(ls "$work"/debs/carehub_"$newer"_*.deb)")
pass "built $deb_old and $deb_new"

phase "the container's root (cached)"
t0=$SECONDS
cached=$(ct_cached_root "$work/debs/$deb_old")
pass "root $cached ready in $((SECONDS - t0)) s"

phase "boot Debian 12 under systemd-nspawn"
t0=$SECONDS
# The packages at /srv/debs; the peers (FHIR, the BLE kit) and this machine's node for the FHIR peer.
boot_args=(--bind-ro="$work/debs:/srv/debs" --bind-ro="$src/tests/peers:/srv/peers"
           --bind-ro="$(readlink -f "$(command -v node)"):/usr/local/bin/node")
ct_boot "$cached" "$work/ct" "${boot_args[@]}"
check "booted: is-system-running says running ($ct_state, $((SECONDS - t0)) s)" test "$ct_state" = running
[ "$ct_state" = running ] || ct_in systemctl --failed --no-pager >&2 || true
check "minbase has no /bin/kill (procps), as on the issue's hub" ct_in test ! -e /bin/kill

install_checks
runtime_checks
web_checks
lifecycle_checks
upgrade_checks

if [ "$failures" -gt 0 ]; then echo "$failures check(s) failed" >&2; exit 1; fi
echo "all systemd checks passed"
