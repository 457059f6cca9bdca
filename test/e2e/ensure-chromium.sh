#!/usr/bin/env bash
# The browser tests (test/e2e) drive Debian's chromium through playwright-core (never a downloaded browser build).
# Installs it when missing: CI runs on a clean clone of this machine type, as root.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
echo "test/e2e: installing Debian chromium for the browser tests" >&2
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
