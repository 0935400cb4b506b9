#!/usr/bin/env bash
# Install the Debian packages the test suite needs, when they are missing:
# Chromium (browser tests) and PostgreSQL (the store conformance suite).
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "error: the tests need the Debian packages: ${missing[*]}." >&2
    echo "Install them (sudo apt-get install -y ${missing[*]}) and rerun make test." >&2
    exit 1
fi
echo "installing ${missing[*]} from Debian's packages"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
