"""Regenerate tests/fixtures/pprof/big_values_{space,cpu}.* : pprof sample values float32 cannot hold.

npm's pprof-format (a pprof encoder that is not ours) writes two small profiles
whose values are integers above 2^24 that float32 rounds (123456789 bytes
would read as 123456792; 2500000001 ns as 2500000000); `go tool pprof -top`
with an exact unit (-unit=B, -unit=ns) gives the figures the tests compare our
importer, our stats and our exports against. Run once after changing the
profiles (`python tools/make_exact_weight_fixtures.py`); needs node, npm
(`npm i pprof-format@2.3.2` into a scratch folder) and go. The test suite runs
none of these tools.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "pprof"
WORK = Path(tempfile.gettempdir()) / "pyrometer-fixtures-exact-weights"

# (sample types, default type, [(leaf-first function names, values)])
PROFILES = {
    "big_values_space": (
        [("alloc_objects", "count"), ("alloc_space", "bytes")], "alloc_space",
        [(["bigA", "main"], [1, 123456789]), (["bigB", "main"], [3, 987654321]), (["small", "main"], [2, 1000]),
         (["bigA", "other", "main"], [1, 16777217])],
    ),
    "big_values_cpu": (
        [("samples", "count"), ("cpu", "nanoseconds")], "cpu",
        [(["spin", "main"], [1, 2500000001]), (["wait", "main"], [1, 123456789]), (["spin", "helper", "main"], [1, 33554433])],
    ),
}

WRITER = r"""
const fs = require('fs');
const zlib = require('zlib');
const {Function, Line, Location, Mapping, Profile, Sample, ValueType, StringTable} = require('pprof-format');
const [types, dflt, samples] = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const st = new StringTable();
const mapping = new Mapping({id: 1});
const funcs = new Map();
const fn = (name) => {
  if (!funcs.has(name)) {
    const id = funcs.size + 1;
    funcs.set(name, {f: new Function({id, name: st.dedup(name), systemName: st.dedup(name), filename: st.dedup('app.go')}),
                     loc: new Location({id, mappingId: 1, line: [new Line({functionId: id, line: 10 * id})]})});
  }
  return funcs.get(name).loc.id;
};
const sample = samples.map(([names, values]) => new Sample({locationId: names.map(fn), value: values}));
const sampleType = types.map(([t, u]) => new ValueType({type: st.dedup(t), unit: st.dedup(u)}));
const profile = new Profile({
  sampleType, sample, mapping: [mapping],
  location: [...funcs.values()].map((x) => x.loc), function: [...funcs.values()].map((x) => x.f),
  defaultSampleType: st.dedup(dflt), stringTable: st,
});
fs.writeFileSync(process.argv[3], zlib.gzipSync(profile.encode()));
"""


def run(cmd: list[str], **kw: object) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout  # type: ignore[call-overload, no-any-return]


def main() -> None:
    import json

    WORK.mkdir(parents=True, exist_ok=True)
    if not (WORK / "node_modules" / "pprof-format").is_dir():
        run(["npm", "i", "--silent", "pprof-format@2.3.2"], cwd=WORK)
    (WORK / "write.js").write_text(WRITER)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (types, default, samples) in PROFILES.items():
        spec = WORK / f"{name}.json"
        spec.write_text(json.dumps([types, default, samples]))
        target = OUT / f"{name}.pb.gz"
        run(["node", str(WORK / "write.js"), str(spec), str(target)], cwd=WORK)
        unit = "B" if default == "alloc_space" else "ns"
        top = run(["go", "tool", "pprof", "-top", "-nodecount=1000", "-nodefraction=0", f"-sample_index={default}", f"-unit={unit}", str(target)])
        (OUT / f"{name}.top.txt").write_text(top)


if __name__ == "__main__":
    main()
