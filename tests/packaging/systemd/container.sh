# shellcheck shell=bash
# The booted Debian 12 the systemd test runs in (sourced by systemd_test.sh).
#
# A root made once by debootstrap (minbase: no procps, no bluez daemon running, nothing the package does
# not ask for) is cached under $CAREHUB_CONTAINER_CACHE (default /var/cache/carehub-test), keyed by a
# hash of everything it holds: the suite, the mirror, the test's own tools and the package's Depends and
# Recommends, which are installed into it ahead of time so `apt-get install ./carehub_*.deb` inside the
# container needs no download (it has no network to download with: --private-network). Each run boots a
# read-write overlay of that root, thrown away afterwards, so runs never see each other's state.
#
# systemd-nspawn runs it with --private-network (the FHIR peer, mosquitto and carehubd talk over the
# container's own loopback, so ports never collide with the host's tests), --register=no and
# --keep-unit (this machine's PID 1 is not systemd: there is no machined and no manager to ask for a
# scope). Commands run inside with nsenter into every namespace of the container's PID 1.

ct_suite=bookworm
ct_mirror=${CAREHUB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ct_security=${CAREHUB_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
ct_cache=${CAREHUB_CONTAINER_CACHE:-/var/cache/carehub-test}
# systemd and D-Bus (the issue's container), mosquitto (an MQTT source inside), python3-dbusmock (BlueZ
# on the container's system bus). The package's own dependencies are added from the .deb.
ct_tools=systemd,systemd-sysv,dbus,mosquitto,mosquitto-clients,python3-dbusmock,python3-dbus
ct_format=1  # bump when the way the root is made changes, so old caches are not reused

ct_pid=""       # the container's PID 1, as seen from here
ct_nspawn=""    # the systemd-nspawn process
ct_dir=""       # overlay upper/work dirs, the merged root and the console log

# ct_in CMD...: runs CMD inside the container (root, a clean environment).
ct_in() {
  nsenter -t "$ct_pid" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}
# ct_as USER CMD...: runs CMD inside as USER with USER's groups (setpriv: no PAM, no login session).
ct_as() {
  local user=$1; shift
  ct_in setpriv --reuid="$user" --regid="$user" --init-groups env HOME=/ "$@"
}
# ct_signal SIG PID: the shell's kill inside (the container has no /bin/kill: no procps).
ct_signal() { ct_in sh -c 'kill -"$1" "$2"' sh "$1" "$2"; }
# ct_net CMD...: runs one of this machine's tools (curl) in the container's network only.
ct_net() { nsenter -t "$ct_pid" -n "$@"; }

# The dependencies the root must hold: the .deb's Depends and Recommends, for `apt-get satisfy`.
ct_deb_needs() {
  local deb=$1 depends recommends
  depends=$(dpkg-deb --field "$deb" Depends)
  recommends=$(dpkg-deb --field "$deb" Recommends)
  echo "$depends${recommends:+, $recommends}"
}

# ct_cached_root DEB: prints the cached root for DEB's dependencies, making it first when missing.
ct_cached_root() {
  local deb=$1 needs key root tmp
  needs=$(ct_deb_needs "$deb")
  # The ISO week too: a root older than that is made again, so it does not drift from the mirror's
  # security updates on a developer's machine (CI starts from nothing anyway).
  key=$(printf '%s\n' "$ct_format" "$ct_suite" "$ct_mirror" "$ct_security" "$ct_tools" "$needs" "$(date -u +%G-W%V)" |
        sha256sum | cut -c1-16)
  root=$ct_cache/root-$key
  mkdir -p "$ct_cache"
  (
    flock 9  # two runs at once: the second waits for the first's root instead of making its own
    [ -f "$root/.carehub-complete" ] && exit 0
    echo "container: making the cached root $root (cold cache: debootstrap and the package's dependencies)" >&2
    tmp=$(mktemp -d "$ct_cache/making-XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    debootstrap --variant=minbase --include="$ct_tools" "$ct_suite" "$tmp" "$ct_mirror" >"$tmp.log" 2>&1 ||
      { tail -20 "$tmp.log" >&2; rm -f "$tmp.log"; exit 1; }
    rm -f "$tmp.log"
    cat >"$tmp/etc/apt/sources.list" <<EOF
deb $ct_mirror $ct_suite main
deb $ct_mirror $ct_suite-updates main
deb $ct_security $ct_suite-security main
EOF
    # No service starts in the chroot (invoke-rc.d and deb-systemd-invoke ask policy-rc.d).
    printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d" && chmod 755 "$tmp/usr/sbin/policy-rc.d"
    {
      chroot "$tmp" apt-get update -qq &&
        chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get satisfy -y -qq --no-install-recommends "$needs"
    } >"$tmp.log" 2>&1 || { tail -20 "$tmp.log" >&2; rm -f "$tmp.log"; exit 1; }
    rm -f "$tmp.log" "$tmp/usr/sbin/policy-rc.d"
    chroot "$tmp" apt-get clean
    rm -rf "$tmp"/var/lib/apt/lists/*
    # Boot quietly: no daily apt or scrub timers firing during a test.
    chroot "$tmp" systemctl mask --quiet apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
      dpkg-db-backup.timer fstrim.timer 2>/dev/null || true
    touch "$tmp/.carehub-complete"
    # Older roots (other dependency lists) are not needed any more.
    find "$ct_cache" -maxdepth 1 -name 'root-*' -type d -exec rm -rf {} +
    mv "$tmp" "$root"
    trap - EXIT
  ) 9>"$ct_cache/lock" || return 1
  echo "$root"
}

# ct_boot CACHED_ROOT DIR [nspawn options...]: boots an overlay of CACHED_ROOT (changes under DIR) and
# returns once `systemctl is-system-running --wait` has answered (set in ct_state).
ct_boot() {
  local lower=$1; shift
  ct_dir=$1; shift
  mkdir -p "$ct_dir/upper" "$ct_dir/work" "$ct_dir/root"
  if ! mountpoint -q "$ct_dir/root"; then
    mount -t overlay overlay -o "lowerdir=$lower,upperdir=$ct_dir/upper,workdir=$ct_dir/work" "$ct_dir/root"
  fi
  # The unified cgroup hierarchy (cgroup v2), as Debian 12 boots a hub, even where this machine mounts
  # the hybrid one; and bpf(2), which nspawn's own filter withholds, so systemd can enforce
  # IPAddressDeny= (its BPF firewall). Without both, IPAddressDeny= is silently not applied.
  SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn -D "$ct_dir/root" --boot --register=no --keep-unit \
    --private-network --system-call-filter=bpf --machine="carehub-test-$$" --console=read-only "$@" \
    >>"$ct_dir/console.log" 2>&1 </dev/null &
  ct_nspawn=$!
  # The container's PID 1 is nspawn's child whose PID in its own namespace is 1.
  local deadline=$((SECONDS + 60)) child
  ct_pid=""
  while [ -z "$ct_pid" ]; do
    for child in $(ps -o pid= --ppid "$ct_nspawn" 2>/dev/null); do
      grep -q $'^NSpid:\t[0-9]*\t1$' "/proc/$child/status" 2>/dev/null && ct_pid=$child
    done
    if ! kill -0 "$ct_nspawn" 2>/dev/null || [ $SECONDS -gt $deadline ]; then
      echo "container: did not start" >&2; tail -30 "$ct_dir/console.log" >&2; return 1
    fi
    [ -n "$ct_pid" ] || sleep 0.1
  done
  # systemctl needs the manager's private socket, which PID 1 opens early in its start.
  until ct_in test -S /run/systemd/private 2>/dev/null; do
    [ $SECONDS -le $deadline ] || { echo "container: systemd never listened" >&2; return 1; }
    sleep 0.1
  done
  ct_state=$(ct_in timeout 120 systemctl is-system-running --wait) || true
}

# ct_halt: an orderly shutdown (SIGTERM to nspawn asks the container's systemd to power off).
ct_halt() {
  [ -n "$ct_nspawn" ] || return 0
  kill -TERM "$ct_nspawn" 2>/dev/null || true
  local deadline=$((SECONDS + 60))
  while kill -0 "$ct_nspawn" 2>/dev/null && [ $SECONDS -le $deadline ]; do sleep 0.2; done
  kill -KILL "$ct_nspawn" 2>/dev/null || true
  wait "$ct_nspawn" 2>/dev/null || true
  ct_nspawn=""
  ct_pid=""
}

# ct_cleanup: halts the container and removes its overlay (the cached root is untouched).
ct_cleanup() {
  ct_halt
  if [ -n "$ct_dir" ]; then
    mountpoint -q "$ct_dir/root" && umount "$ct_dir/root"
    rm -rf "$ct_dir"
  fi
}
