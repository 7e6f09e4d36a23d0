# Installs 389-ds-base and what the run needs when missing, and makes it run without systemd.
# Sourced by run.sh. See ../shared/reference/real-389ds.md, steps 1-2 and the pitfalls.

PACKAGES=(389-ds-base python3-lib389 ldap-utils curl)
DEFAULTS_INF=/usr/share/dirsrv/inf/defaults.inf

# The packages of PACKAGES not installed, on one line.
missing_packages() {
  local p out=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || out+=("$p")
  done
  printf '%s' "${out[*]}"
}

install_packages() {
  [ "$(id -u)" -eq 0 ] || die "must run as root: it installs Debian packages and creates 389-DS instances under /etc/dirsrv (CI runs as root)"
  if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
    die "no apt-get/dpkg-query: this needs a Debian machine (389-ds-base 2.3.1 from Debian 12)"
  fi
  local missing
  missing=$(missing_packages)
  if [ -n "$missing" ]; then
    [ "$NO_INSTALL" = 1 ] && die "--no-install given, but these packages are missing: $missing"
    say "installing: $missing (--no-install-recommends)"
    apt-get update -q >"$OUT/apt.log" 2>&1 || die "apt-get update failed (see $OUT/apt.log)"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >>"$OUT/apt.log" 2>&1 ||
      die "apt-get install $missing failed (see $OUT/apt.log)"
    missing=$(missing_packages)
    [ -z "$missing" ] || die "still missing after apt-get install: $missing"
  fi
  local tool
  for tool in /usr/sbin/ns-slapd /usr/sbin/dscreate /usr/sbin/dsctl /usr/sbin/dsconf /usr/bin/ldapsearch /usr/bin/curl; do
    [ -x "$tool" ] || die "the packages are installed but $tool is missing"
  done
  "$PY" -c 'import lib389' 2>/dev/null || die "$PY cannot import lib389 (python3-lib389)"
  VERSION_389=$(dpkg-query -W -f='${Version}' 389-ds-base)
  say "389-ds-base $VERSION_389"
}

# lib389 takes "systemd or not" from defaults.inf, whatever the .inf file says; PID 1 here is
# not systemd. A reinstall of the package brings the 1 back, so this runs every time.
patch_defaults_inf() {
  [ -f "$DEFAULTS_INF" ] || die "$DEFAULTS_INF is missing"
  if grep -q '^with_systemd = 1' "$DEFAULTS_INF"; then
    [ -f "$DEFAULTS_INF.replharness-orig" ] || cp -p "$DEFAULTS_INF" "$DEFAULTS_INF.replharness-orig"
    sed -i 's/^with_systemd = 1/with_systemd = 0/' "$DEFAULTS_INF"
    say "patched $DEFAULTS_INF: with_systemd = 0 (original kept as $DEFAULTS_INF.replharness-orig)"
  fi
  grep -q '^with_systemd = 0' "$DEFAULTS_INF" || die "$DEFAULTS_INF has no 'with_systemd = 0' after the patch"
  # dscreate makes these once; nothing recreates them after a reboot.
  install -d -o dirsrv -g dirsrv /run/dirsrv /run/lock/dirsrv
}
