#!/usr/bin/env bash
# Install Pyrometer's desktop entry, .pyro MIME type and icons for the current user.
#
#   packaging/install-desktop.sh [--exec PATH | --prefix DIR] [--uninstall]
#
#   --exec PATH   the pyrometer command the menu entry and double-clicked
#                 recordings run (a bundle's DIST/pyrometer/pyrometer, or a
#                 virtualenv's bin/pyrometer)
#   --prefix DIR  the folder holding that command (same as --exec DIR/pyrometer)
#   --uninstall   remove what an install put there
#
# Default command: `pyrometer` on PATH, else this checkout's .venv/bin/pyrometer,
# else dist/pyrometer/pyrometer. Files go under ${XDG_DATA_HOME:-~/.local/share}:
# applications/pyrometer.desktop, mime/packages/pyrometer.xml and
# icons/hicolor/<size>/apps/pyrometer.{png,svg}; the desktop, MIME and icon
# caches are refreshed when their tools are installed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
sizes="16 32 48 64 128 256"
exec_path=""
uninstall=0

while [ $# -gt 0 ]; do
    case "$1" in
        --exec) exec_path="$2"; shift 2 ;;
        --exec=*) exec_path="${1#*=}"; shift ;;
        --prefix) exec_path="${2%/}/pyrometer"; shift 2 ;;
        --prefix=*) p="${1#*=}"; exec_path="${p%/}/pyrometer"; shift ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "install-desktop.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

data="${XDG_DATA_HOME:-$HOME/.local/share}"
desktop="$data/applications/pyrometer.desktop"
mime="$data/mime/packages/pyrometer.xml"

refresh() {
    if command -v update-desktop-database >/dev/null; then
        update-desktop-database -q "$data/applications" || true
    fi
    if command -v update-mime-database >/dev/null; then
        update-mime-database "$data/mime" >/dev/null || true
    fi
    if command -v gtk-update-icon-cache >/dev/null && [ -f "$data/icons/hicolor/index.theme" ]; then
        gtk-update-icon-cache -q -f -t "$data/icons/hicolor" || true
    fi
}

if [ "$uninstall" = 1 ]; then
    rm -f "$desktop" "$mime" "$data/icons/hicolor/scalable/apps/pyrometer.svg"
    for s in $sizes; do
        rm -f "$data/icons/hicolor/${s}x${s}/apps/pyrometer.png"
    done
    mkdir -p "$data/applications" "$data/mime/packages"
    refresh
    echo "removed Pyrometer's desktop entry, MIME type and icons from $data"
    exit 0
fi

if [ -z "$exec_path" ]; then
    for candidate in "$(command -v pyrometer || true)" "$root/.venv/bin/pyrometer" "$root/dist/pyrometer/pyrometer"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ]; then exec_path="$candidate"; break; fi
    done
    if [ -z "$exec_path" ]; then
        echo "install-desktop.sh: no pyrometer command found; give --exec PATH or --prefix DIR" >&2
        exit 2
    fi
fi
case "$exec_path" in /*) ;; *) exec_path="$(cd "$(dirname "$exec_path")" && pwd)/$(basename "$exec_path")" ;; esac
if [ ! -x "$exec_path" ]; then
    echo "install-desktop.sh: $exec_path is not an executable" >&2
    exit 2
fi
case "$exec_path" in
    *[\"\`\$\\%]*) echo "install-desktop.sh: cannot put $exec_path in a desktop file (\", \`, \$, \\ or %)" >&2; exit 2 ;;
    *[!A-Za-z0-9/._+-]*) quoted="\"$exec_path\"" ;;
    *) quoted="$exec_path" ;;
esac

mkdir -p "$data/applications" "$data/mime/packages" "$data/icons/hicolor/scalable/apps"
# Exec/TryExec point at the chosen command; everything else is the shipped file.
sed -e "s|^Exec=pyrometer |Exec=$quoted |" -e "s|^TryExec=pyrometer\$|TryExec=$exec_path|" \
    "$here/pyrometer.desktop" > "$desktop.tmp"
mv "$desktop.tmp" "$desktop"
cp "$here/pyrometer-mime.xml" "$mime"
cp "$root/resources/icons/pyrometer.svg" "$data/icons/hicolor/scalable/apps/pyrometer.svg"
for s in $sizes; do
    mkdir -p "$data/icons/hicolor/${s}x${s}/apps"
    cp "$root/resources/icons/pyrometer-$s.png" "$data/icons/hicolor/${s}x${s}/apps/pyrometer.png"
done
refresh
echo "installed $desktop (runs $exec_path), the .pyro MIME type and icons under $data"
