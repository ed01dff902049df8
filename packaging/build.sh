#!/usr/bin/env bash
# Build a one-folder Pyrometer bundle with PyInstaller, from the current Python environment.
#
#   packaging/build.sh [--dist DIR] [--work DIR]
#
# Python: $PYTHON, else the active virtualenv's, else .venv/bin/python in the
# repository, else python3. PyInstaller is installed into that environment when
# missing (it is the `package` extra: pip install -e '.[package]').
# Result: DIR/pyrometer/pyrometer (default DIR: dist/ in the repository).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
dist="$root/dist"
work="$root/build/pyinstaller"

while [ $# -gt 0 ]; do
    case "$1" in
        --dist) dist="$2"; shift 2 ;;
        --dist=*) dist="${1#*=}"; shift ;;
        --work) work="$2"; shift 2 ;;
        --work=*) work="${1#*=}"; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

if [ -n "${PYTHON:-}" ]; then
    python="$PYTHON"
elif [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then
    python="$VIRTUAL_ENV/bin/python"
elif [ -x "$root/.venv/bin/python" ]; then
    python="$root/.venv/bin/python"
else
    python="$(command -v python3)"
fi

if ! "$python" -c "import PyInstaller" 2>/dev/null; then
    echo "build.sh: installing PyInstaller into $("$python" -c 'import sys; print(sys.prefix)')"
    "$python" -m pip install 'pyinstaller>=6.0'
fi
"$python" -c "import pyrometer, PySide6, pyqtgraph, numpy" 2>/dev/null || {
    echo "build.sh: $python cannot import Pyrometer and its dependencies; run pip install -e . first" >&2
    exit 2
}

mkdir -p "$dist" "$work"
dist="$(cd "$dist" && pwd)"
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$dist" --workpath "$work" "$here/pyrometer.spec"

bundle="$dist/pyrometer"
# A pyenv/self-built libpython carries ~20 MB of debug info; numpy's libraries must stay untouched.
if command -v strip >/dev/null && [ "$(uname -s)" = Linux ]; then
    find "$bundle/_internal" -maxdepth 1 -name 'libpython*.so*' -type f -exec strip --strip-debug {} +
    find "$bundle/_internal" -path '*/lib-dynload/*.so' -type f -exec strip --strip-debug {} +
fi
"$bundle/pyrometer" --version
# Every pane must import inside the bundle (the window skips a pane whose module fails to import).
PYROMETER_AS_PYTHON=1 QT_QPA_PLATFORM=offscreen "$bundle/pyrometer" -c '
import sys
from pyrometer.app.session_view import PANE_MODULES, pane_classes
found = len(pane_classes())
if found != len(PANE_MODULES):
    sys.exit("build.sh: only %d of %d panes import in the bundle" % (found, len(PANE_MODULES)))
'
echo "bundle: $bundle"
echo "size:   $(du -sh "$bundle" | cut -f1)"
