#!/usr/bin/env bash
# System programs some tests need (LibreOffice for the CSV-in-a-spreadsheet tests, node/npm for the
# independent FHIR validator, the AVR toolchain and simavr for the reference probe), installed up
# front by ./test as tools/bootstrap.sh installs Qt's libraries: as root with apt-get, otherwise
# the exact command is printed. The tests check again (tests/support/system_tools.py): under
# CI=true a program still missing fails its test instead of skipping it. Installing here, before
# pytest, keeps a slow download out of any one test's time limit.
set -euo pipefail
want=()
have() { command -v "$1" >/dev/null 2>&1; }
have soffice || want+=(libreoffice-calc)
have node || want+=(nodejs)
have npm || want+=(npm)
have avr-gcc || want+=(gcc-avr avr-libc binutils-avr)
have simavr || want+=(simavr libsimavr-dev libsimavrparts1)
have make || want+=(make)
have mosquitto || [ -x /usr/sbin/mosquitto ] || want+=(mosquitto)
if [ ${#want[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && have apt-get; then
  echo "Installing what some tests need: ${want[*]}"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
else
  echo "Some tests need these system packages (they are skipped without them, and fail under CI=true). Run:"
  echo "  sudo apt-get install -y --no-install-recommends ${want[*]}"
fi
