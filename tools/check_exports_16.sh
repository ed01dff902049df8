#!/bin/sh
# Read Pyrometer's pprof export with two independent readers (issue 16):
#   go tool pprof (apt-get install golang-go) and npm's pprof-format decoder.
# Usage: tools/check_exports_16.sh PROFILE   (any file pyrometer reads, e.g. a .pyro)
# Prints `pyrometer stats`, then go tool pprof -top, then pprof-format's totals and top
# self function: the totals and the top function must agree.
set -eu
src=$1
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-$here/.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$py" -m pyrometer convert "$src" "$work/out.pb.gz"
"$py" -m pyrometer stats "$src" --top 3
go tool pprof -top -nodecount=5 "$work/out.pb.gz"
(cd "$work" && npm install --silent pprof-format@2.3.2 >/dev/null 2>&1)
cat > "$work/check.js" <<'JS'
const fs = require('fs'); const zlib = require('zlib');
const { Profile } = require('pprof-format');
const p = Profile.decode(zlib.gunzipSync(fs.readFileSync(process.argv[2])));
const st = p.stringTable.strings;
const types = p.sampleType.map(t => `${st[Number(t.type)]}/${st[Number(t.unit)]}`);
const totals = types.map((_, i) => p.sample.reduce((a, s) => a + Number(s.value[i]), 0));
const fn = new Map(p.function.map(f => [Number(f.id), st[Number(f.name)]]));
const loc = new Map(p.location.map(l => [Number(l.id), fn.get(Number(l.line[0].functionId))]));
const self = {};
for (const s of p.sample) { const k = loc.get(Number(s.locationId[0])); self[k] = (self[k] || 0) + Number(s.value[1]); }
const top = Object.entries(self).sort((a, b) => b[1] - a[1])[0];
console.log('pprof-format:', JSON.stringify({types, totals, period: Number(p.period), durationNanos: Number(p.durationNanos), top}));
JS
(cd "$work" && node check.js out.pb.gz)
