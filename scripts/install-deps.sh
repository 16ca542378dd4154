#!/usr/bin/env bash
# Installs everything carehub needs to build, test and demo on a fresh Debian 12 machine.
# Idempotent: installs only what is missing, so the README's commands stay fast on a warm machine.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  build-essential cmake pkg-config ninja-build
  libsqlite3-dev sqlite3 libcurl4-openssl-dev libssl-dev zlib1g-dev nlohmann-json3-dev libcli11-dev
  libsystemd-dev libsdbus-c++-dev libpaho-mqttpp-dev libpaho-mqtt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  mosquitto mosquitto-clients dbus python3-dbusmock python3-dbus
  clang libclang-rt-14-dev lld curl jq locales  # lld: the clang sanitizer tree links several times faster
  openssl  # tests/support/test_pki: the certificates of the TLS tests
  libcpp-httplib-dev libcrypt-dev  # carehub-web: HTTP(S) server with chunked responses for SSE; yescrypt hashes
  chromium iproute2  # tests/browser: Debian's headless chromium; a network namespace as a home-network tablet
  # packaging test (tests/packaging): cpack's dpkg-shlibdeps, the unit checks, man page rendering
  dpkg-dev systemd init-system-helpers man-db bsdextrautils file
  # the systemd test (tests/packaging/systemd): a booted Debian 12 container made by debootstrap
  systemd-container debootstrap
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# A decimal-comma locale, so the parsers' tests prove numbers are read the same whatever the locale.
if ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO sed -i 's/^# *de_DE.UTF-8 UTF-8/de_DE.UTF-8 UTF-8/' /etc/locale.gen
  grep -q '^de_DE.UTF-8 UTF-8' /etc/locale.gen || echo 'de_DE.UTF-8 UTF-8' | $SUDO tee -a /etc/locale.gen >/dev/null
  $SUDO locale-gen >/dev/null
fi

# The FHIR test peer needs Node >= 20 (Medplum 5); Debian 12's own nodejs is 18.
if ! command -v node >/dev/null; then
  echo "install-deps: Node.js >= 20 is required for the FHIR test peer (tests/peers/fhir)." >&2
  echo "install-deps: Debian 12's nodejs package is 18, too old; install Node 20 from NodeSource or nvm." >&2
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "install-deps: Node.js $(node --version) found, but the FHIR test peer needs >= 20 (Medplum 5)." >&2
  echo "install-deps: Debian 12's nodejs package is 18; install Node 20 from NodeSource or nvm." >&2
  exit 1
fi
# npm ci in DIR (relative to the checkout) when its package-lock.json changed since the last install.
npm_ci() {
  local dir="$here/$1"
  [ -f "$dir/package-lock.json" ] || return 0
  local stamp="$dir/node_modules/.carehub-lock-stamp"
  if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    echo "install-deps: npm ci in $1"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$stamp"
  fi
}
npm_ci tests/peers/fhir  # the FHIR test peer (Medplum's router)
npm_ci web               # the web UI's chart library (uPlot); the build copies it into the .deb
npm_ci tests/browser     # the browser tests' driver and checker (playwright-core, axe-core)

# The buffer's SQLite is SQLCipher 4.14.0 (docs/design/encrypted-buffer.md): its amalgamation, two files,
# from the npm package @journeyapps/sqlcipher@6.0.0, pinned by the registry's integrity value and by the
# files' sha256 (third_party/sqlcipher/VERSION). `npm pack`, not `npm ci`: the package's install script
# builds a Node addon we do not want, and nothing of it runs here. Debian's libsqlcipher-dev (3.4.1, SQLite
# 3.15.2) cannot run the store's statements.
fetch_sqlcipher() {
  local dir="$here/third_party/sqlcipher"
  local want_c=2ba87bbc92caf02c0ac640198c537c24bdda899a18bbba289f3d3f44d56795e4
  local want_h=c7253bc5d2ba0fad5236fc10ed959f99374bdbc224c200250c9c4a90edf56023
  local want_tgz=sha512-YmWSQIR4cnv+5L38lYJoS/dIF/+bEZBaACATbeTyq4XKjMHcxdIlFnElBLiIqa9rwseOIimIYjudgOOCovud3Q==
  if echo "$want_c  $dir/sqlite3.c" | sha256sum -c --status 2>/dev/null &&
     echo "$want_h  $dir/sqlite3.h" | sha256sum -c --status 2>/dev/null; then
    return 0
  fi
  echo "install-deps: fetching SQLCipher 4.14.0 (@journeyapps/sqlcipher@6.0.0)"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent --ignore-scripts @journeyapps/sqlcipher@6.0.0 >/dev/null)
  local got
  got=sha512-$(openssl dgst -sha512 -binary "$tmp/journeyapps-sqlcipher-6.0.0.tgz" | base64 -w0)
  if [ "$got" != "$want_tgz" ]; then
    rm -rf "$tmp"
    echo "install-deps: @journeyapps/sqlcipher@6.0.0 integrity mismatch ($got)" >&2
    exit 1
  fi
  mkdir -p "$dir"
  tar -xzf "$tmp/journeyapps-sqlcipher-6.0.0.tgz" -C "$dir" --strip-components=3 \
    package/deps/sqlcipher-amalgamation/sqlite3.c package/deps/sqlcipher-amalgamation/sqlite3.h
  rm -rf "$tmp"
  echo "$want_c  $dir/sqlite3.c" | sha256sum -c --status ||
    { echo "install-deps: third_party/sqlcipher/sqlite3.c does not match its pin" >&2; exit 1; }
  echo "$want_h  $dir/sqlite3.h" | sha256sum -c --status ||
    { echo "install-deps: third_party/sqlcipher/sqlite3.h does not match its pin" >&2; exit 1; }
}
fetch_sqlcipher
