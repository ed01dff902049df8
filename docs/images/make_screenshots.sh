#!/usr/bin/env bash
# Regenerate the README's screenshots from live demo sessions (offscreen, fresh settings).
#   docs/images/make_screenshots.sh [SECONDS]   (default: 8 s of demo before each shot)
#   SIZE=1366x768 docs/images/make_screenshots.sh   (window size, default 1920x1080: --screenshot-size)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/docs/images"
after="${1:-8}"
size="${SIZE:-1920x1080}"
python="${PYTHON:-$root/.venv/bin/python}"
shot() {  # NAME [PANE TITLE]
    local name="$1"; shift
    local pane=()
    if [ $# -gt 0 ]; then pane=(--screenshot-pane "$1"); fi
    QT_QPA_PLATFORM=offscreen XDG_CONFIG_HOME="$(mktemp -d)" \
        "$python" -m pyrometer demo --screenshot "$out/$name.png" --screenshot-after "$after" \
        --screenshot-size "$size" "${pane[@]}"
}
shot main-window
shot flame-graph "Flame graph"
shot event-loop "Event loop"
shot tasks "Tasks"
shot stack-chart "Stack chart"
"$python" "$out/quantize.py" "$out"/main-window.png "$out"/flame-graph.png "$out"/event-loop.png "$out"/tasks.png \
    "$out"/stack-chart.png
