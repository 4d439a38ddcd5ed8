#!/usr/bin/env bash
# Creates or reuses .venv inside the checkout and installs SympaTherm with what it needs.
# Sourced by ./demo and ./test. Installs missing system libraries when run as root (as CI
# is); otherwise prints the exact command to run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"

need_apt=()
# The linker cache is read once: `ldconfig -p | grep -q` under pipefail fails at random when
# grep stops early and ldconfig dies of SIGPIPE. Non-root PATHs may lack /sbin.
LDCACHE="$( (ldconfig -p || /sbin/ldconfig -p) 2>/dev/null || true)"
if [ -z "$LDCACHE" ]; then
  LDCACHE="$(find /lib /usr/lib /lib64 /usr/lib64 -name 'lib*.so*' 2>/dev/null || true)"
fi
have_lib() { grep -qF "$1" <<<"$LDCACHE"; }
# Libraries Qt's offscreen and xcb platforms load, and the font Qt falls back to.
for pair in libEGL.so.1:libegl1 libGL.so.1:libgl1 libxkbcommon.so.0:libxkbcommon0 \
            libfontconfig.so.1:libfontconfig1 libdbus-1.so.3:libdbus-1-3 \
            libxkbcommon-x11.so.0:libxkbcommon-x11-0 libxcb-icccm.so.4:libxcb-icccm4 \
            libxcb-keysyms.so.1:libxcb-keysyms1 libxcb-image.so.0:libxcb-image0 \
            libxcb-render-util.so.0:libxcb-render-util0 libxcb-cursor.so.0:libxcb-cursor0 \
            libxcb-shape.so.0:libxcb-shape0 libxcb-xinerama.so.0:libxcb-xinerama0 \
            libxcb-randr.so.0:libxcb-randr0 libglib-2.0.so.0:libglib2.0-0; do
  have_lib "${pair%%:*}" || need_apt+=("${pair##*:}")
done
[ -d /usr/share/fonts/truetype/dejavu ] || need_apt+=(fonts-dejavu-core)
if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  need_apt+=(python3-venv)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing system libraries: ${need_apt[*]}"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "SympaTherm needs these system packages. Run:"
    echo "  sudo apt-get install -y ${need_apt[*]}"
    # Only the venv is fatal; missing xcb parts only matter on a real display.
    case " ${need_apt[*]} " in *" python3-venv "*|*" libegl1 "*|*" libgl1 "*|*" libfontconfig1 "*|*" libxkbcommon0 "*) exit 1;; esac
  fi
fi

stamp="$VENV/.sympatherm-installed"
want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)"
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating the virtual environment in .venv ..."
  "$PY" -m venv "$VENV"
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing SympaTherm and its dependencies into .venv (first run takes a minute) ..."
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  # pip's own noise (index warnings, setuptools notices) is dropped; errors still show.
  if ! "$VENV/bin/python" -m pip install -q -e "$ROOT[test]" > "$VENV/pip-install.log" 2>&1; then
    grep -v -e "^WARNING: Location" "$VENV/pip-install.log" | tail -30
    echo "Installing the Python dependencies failed; the full log is in .venv/pip-install.log"
    exit 1
  fi
  echo "$want" > "$stamp"
fi
