#!/usr/bin/env bash
# The .deb end to end, without touching this machine: cpack builds it from the build tree, dpkg-deb
# inspects it, and dpkg installs, reconfigures, upgrades, removes and purges it in a scratch root
# (dpkg --root with --force-script-chrootless: the maintainer scripts run here with DPKG_ROOT set and
# act only under it). systemd-analyze checks the unit; the man pages must render without warnings.
#   package_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$(mktemp -d /tmp/carehub-packaging-XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
check() {  # check DESCRIPTION COMMAND...: passes when the command succeeds
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
has_line() { grep -qxF -- "$1" "$2"; }

for tool in cpack dpkg dpkg-deb dpkg-shlibdeps systemd-analyze systemd-sysusers systemd-tmpfiles deb-systemd-helper man; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
done

echo "== the unit"
unit=$src/systemd/carehubd.service
# Exposure is reported on a 0-10 scale; --threshold takes tenths (20 = 2.0) and fails above it.
security=$(systemd-analyze security --offline=yes --threshold=20 "$unit" 2>&1) && rc=0 || rc=$?
score=$(sed -n 's/.*Overall exposure level for carehubd.service: \([0-9.]*\).*/\1/p' <<<"$security")
if [ "$rc" -eq 0 ] && [ -n "$score" ]; then pass "exposure $score <= 2.0"; else fail "exposure ${score:-unknown} > 2.0 (rc $rc)"; echo "$security" >&2; fi
# shellcheck disable=SC2016 # $MAINPID is the unit's, not ours
for needed in 'Type=notify' 'WatchdogSec=30s' 'Restart=on-failure' 'StartLimitBurst=5' 'ExecReload=/bin/sh -c '"'"'/usr/sbin/carehubd --config /etc/carehub/carehubd.json --check && kill -HUP "$$MAINPID"'"'"'' \
              'User=carehub' 'SupplementaryGroups=bluetooth' 'StateDirectory=carehub' 'RuntimeDirectory=carehub' \
              'ConfigurationDirectory=carehub' 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
              'LoadCredential=fhir-client-secret:carehub.fhir-client-secret' 'LoadCredential=mqtt-password:carehub.mqtt-password' \
              'Environment=GNUTLS_NO_IMPLICIT_INIT=1'; do
  check "unit has $needed" has_line "$needed" "$unit"
done
# The paths the unit gives the daemon are the configuration's defaults.
check "unit and config agree on the socket" grep -q '"socket": "/run/carehub/control.sock"' "$src/config/carehubd.example.json"
check "unit and config agree on the buffer" grep -q '"path": "/var/lib/carehub/buffer.db"' "$src/config/carehubd.example.json"
check "carehubd's default config path is the unit's" grep -q '"/etc/carehub/carehubd.json"' "$src/daemon/carehubd_main.cpp"

echo "== man pages"
for page in "$src/docs/man/carehubd.8" "$src/docs/man/carehubctl.1"; do
  out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>"$work/man-warnings" | col -b)
  if [ -s "$work/man-warnings" ]; then fail "$(basename "$page") renders with warnings"; cat "$work/man-warnings" >&2
  elif ! grep -q '^SYNOPSIS' <<<"$out"; then fail "$(basename "$page") has no SYNOPSIS"
  else pass "$(basename "$page") renders cleanly ($(wc -l <<<"$out") lines)"; fi
done
# Every carehubctl command and subcommand the binary knows has its section in the man page.
subcommands() { "$@" --help | sed -n '/^Subcommands:/,$p' | awk 'NR>1 && NF {print $1}'; }
if [ -x "$build/daemon/carehubctl" ]; then
  ctl=$build/daemon/carehubctl
  sed 's/\\-/-/g' "$src/docs/man/carehubctl.1" >"$work/carehubctl.1.plain"  # roff writes a hyphen as \-
  groups=$(subcommands "$ctl")
  [ -n "$groups" ] || fail "no subcommands in carehubctl --help"
  for g in $groups; do
    subs=$(subcommands "$ctl" "$g")
    for c in ${subs:-""}; do
      name=$(echo "carehubctl $g $c" | sed 's/ *$//')
      check "carehubctl.1 documents '$name'" grep -q "^\\.SS \"${name}[ \"]" "$work/carehubctl.1.plain"
    done
  done
fi

echo "== build the package"
(cd "$work" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; echo "FAIL: cpack" >&2; exit 1; }
deb=$(ls "$work"/out/carehub_*.deb)
pass "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

echo "== inspect it"
dpkg-deb --field "$deb" >"$work/control"
check "package name" has_line "Package: carehub" "$work/control"
depends=$(sed -n 's/^Depends: //p' "$work/control")
for lib in libc6 libssl3 libcurl4 libsystemd0 libstdc++6 'init-system-helpers (>= 1.54~)' 'systemd | adduser'; do
  check "Depends has $lib" grep -qF -- "$lib" <<<"$depends"
done
# The buffer's SQLite is SQLCipher, compiled in (cmake/CarehubSqlcipher.cmake): no process may load the
# system's libsqlite3 beside it (two SQLites, one set of symbol names; docs/design/encrypted-buffer.md).
check "Depends has no libsqlite3-0 (SQLCipher is compiled in)" bash -c "! grep -qF libsqlite3 <<<'$depends'"
for bin in carehubd carehubctl; do
  check "$bin needs no libsqlite3" bash -c "! readelf -d '$build/daemon/$bin' | grep -q 'libsqlite3'"
done
dpkg-deb --contents "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/contents"
for f in /usr/sbin/carehubd /usr/bin/carehubctl /usr/lib/systemd/system/carehubd.service \
         /usr/sbin/carehub-web /usr/lib/systemd/system/carehub-web.service \
         /usr/lib/sysusers.d/carehub.conf /usr/lib/tmpfiles.d/carehub.conf \
         /usr/share/man/man8/carehubd.8 /usr/share/man/man1/carehubctl.1 \
         /usr/share/doc/carehub/technician-guide.md /usr/share/doc/carehub/clinician-guide.md \
         /usr/share/doc/carehub/operations.md /usr/share/doc/carehub/configuration.md \
         /usr/share/carehub/carehubd.example.json /usr/share/carehub/rules/hf5.json \
         /etc/carehub/carehubd.json /etc/carehub/rules/hf5.json; do
  check "contains $f" has_line "$f" "$work/contents"
done
check "nothing under /usr/local" bash -c "! grep -q '^/usr/local' '$work/contents'"
# 0750 as the unit's ConfigurationDirectoryMode= (systemd warns at every start when they differ).
check "/etc/carehub is 0750 in the package" test "$(dpkg-deb --contents "$deb" | awk '$6 == "./etc/carehub/" {print $1}')" = drwxr-x---
dpkg-deb --control "$deb" "$work/ctrl"
for s in postinst prerm postrm; do
  check "$s is executable" test -x "$work/ctrl/$s"
done
check "the configuration is a conffile" has_line /etc/carehub/carehubd.json "$work/ctrl/conffiles"
check "rule files are conffiles" has_line /etc/carehub/rules/hf5.json "$work/ctrl/conffiles"
check "binaries are stripped" bash -c "dpkg-deb --fsys-tarfile '$deb' | tar -xO ./usr/sbin/carehubd > '$work/carehubd' && ! file '$work/carehubd' | grep -q 'not stripped'"

echo "== install into a scratch root"
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers" "$root/etc" "$root/usr"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg_root() {  # dpkg against the scratch root; maintainer scripts see DPKG_ROOT=$root
  dpkg --root="$root" --log="$work/dpkg.log" --force-script-chrootless --force-depends --force-confold \
       --no-triggers "$@"
}
dpkg_root -i "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; echo "FAIL: dpkg -i" >&2; exit 1; }
cat "$work/install.log"
check "installed" bash -c "dpkg --root='$root' -s carehub | grep -q '^Status: install ok installed'"
check "carehub user created" grep -q '^carehub:x:[0-9]*:[0-9]*:carehub home hub gateway:/var/lib/carehub:/usr/sbin/nologin$' "$root/etc/passwd"
check "carehub group created" grep -q '^carehub:x:' "$root/etc/group"
check "bluetooth group exists" grep -q '^bluetooth:x:' "$root/etc/group"
uid=$(awk -F: '$1=="carehub"{print $3}' "$root/etc/passwd")
gid=$(awk -F: '$1=="carehub"{print $3}' "$root/etc/group")
check "buffer directory carehub:carehub 0750" test "$(stat -c '%u:%g %a' "$root/var/lib/carehub")" = "$uid:$gid 750"
check "credential store root-only" test "$(stat -c '%u %a' "$root/etc/credstore")" = "0 700"
check "enabled at boot" test -L "$root/etc/systemd/system/multi-user.target.wants/carehubd.service"
check "carehub-web enabled at boot" test -L "$root/etc/systemd/system/multi-user.target.wants/carehub-web.service"
check "carehub-web user in group carehub" grep -q '^carehub:x:[0-9]*:.*carehub-web' "$root/etc/group"
check "not started unconfigured" grep -q 'configured: no' "$work/install.log"
check "the shipped configuration names what to fill in" bash -c \
  "'$root/usr/sbin/carehubd' --config '$root/etc/carehub/carehubd.json' --check 2>&1 | grep -q '/hub/id: must not be empty'"

echo "== systemd-analyze verify (the installed unit, binaries from the scratch root)"
sed "s|/usr/sbin/carehubd|$root/usr/sbin/carehubd|g" "$root/usr/lib/systemd/system/carehubd.service" >"$work/carehubd.service"
if verify=$(systemd-analyze verify --man=no "$work/carehubd.service" 2>&1); then pass "systemd-analyze verify"
else fail "systemd-analyze verify"; echo "$verify" >&2; fi

echo "== the technician configures; an upgrade keeps the configuration and the buffer"
sed -i 's|"id": ""|"id": "hub-0042"|; s|"patient": ""|"patient": "Patient/12345"|' "$root/etc/carehub/carehubd.json"
check "configured file validates" "$root/usr/sbin/carehubd" --config "$root/etc/carehub/carehubd.json" --check
echo "pretend buffer" >"$root/var/lib/carehub/buffer.db"
echo "s3cret" >"$root/etc/credstore/carehub.fhir-bearer-token"
dpkg_root -i "$deb" >"$work/upgrade.log" 2>&1 || { cat "$work/upgrade.log" >&2; echo "FAIL: reinstall" >&2; exit 1; }
check "upgrade sees the configuration" grep -q 'configured: yes' "$work/upgrade.log"
check "configuration kept on upgrade" grep -q '"id": "hub-0042"' "$root/etc/carehub/carehubd.json"
check "buffer kept on upgrade" test "$(cat "$root/var/lib/carehub/buffer.db")" = "pretend buffer"

echo "== remove keeps the buffer, the configuration and the secrets"
dpkg_root -r carehub >"$work/remove.log" 2>&1 || { cat "$work/remove.log" >&2; echo "FAIL: dpkg -r" >&2; exit 1; }
check "binary removed" test ! -e "$root/usr/sbin/carehubd"
check "buffer kept on remove" test -f "$root/var/lib/carehub/buffer.db"
check "configuration kept on remove" grep -q '"id": "hub-0042"' "$root/etc/carehub/carehubd.json"
check "secret kept on remove" test -f "$root/etc/credstore/carehub.fhir-bearer-token"

echo "== purge removes them"
dpkg_root -P carehub >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; echo "FAIL: dpkg -P" >&2; exit 1; }
check "buffer removed on purge" test ! -e "$root/var/lib/carehub"
check "configuration removed on purge" test ! -e "$root/etc/carehub"
check "secret removed on purge" test ! -e "$root/etc/credstore/carehub.fhir-bearer-token"
check "boot link removed on purge" test ! -e "$root/etc/systemd/system/multi-user.target.wants/carehubd.service"
check "carehub-web's boot link removed on purge" test ! -e "$root/etc/systemd/system/multi-user.target.wants/carehub-web.service"

echo "== cmake --install into a prefix outside /usr keeps /etc inside it"
DESTDIR='' cmake --install "$build" --prefix "$work/prefix" >"$work/cmake-install.log" 2>&1 ||
  { cat "$work/cmake-install.log" >&2; echo "FAIL: cmake --install" >&2; exit 1; }
for f in sbin/carehubd bin/carehubctl lib/systemd/system/carehubd.service lib/sysusers.d/carehub.conf \
         lib/tmpfiles.d/carehub.conf share/man/man8/carehubd.8 share/man/man1/carehubctl.1 \
         share/doc/carehub/operations.md share/carehub/rules/hf5.json etc/carehub/carehubd.json etc/carehub/rules/hf5.json; do
  check "cmake --install lays out $f" test -f "$work/prefix/$f"
done

if [ "$failures" -gt 0 ]; then echo "$failures check(s) failed" >&2; exit 1; fi
echo "all packaging checks passed"
