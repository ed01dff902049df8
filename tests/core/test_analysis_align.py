"""Functions of two profiles matched by (name, file): the one rule behind Compare, diff colours and carried-over transforms."""

from __future__ import annotations

from pyrometer.core import example_profiles as ex
from pyrometer.core.analysis.align import align_functions
from pyrometer.core.analysis.transforms import Transform, map_transform
from pyrometer.core.model import Profile


def test_same_names_and_files_match_whatever_the_ids_and_lines() -> None:
    a = Profile()
    a.intern_function("compute", ex.APP, 10)
    a.intern_function("dumps", ex.JSONLIB, 183)
    b = Profile()
    b.intern_function("dumps", ex.JSONLIB, 183)
    b.intern_function("compute", ex.APP, 14)  # moved down by an edit: still the same function
    b.intern_function("compute", ex.APP, 40)  # a second definition: the first one wins
    b.intern_function("compute", ex.WORKER, 10)  # same name, other file: another function
    assert align_functions(a.func_name, a.func_file, b.func_name, b.func_file).tolist() == [1, 0]
    assert align_functions(b.func_name, b.func_file, a.func_name, a.func_file).tolist() == [1, 0, 0, -1]
    assert align_functions([], [], b.func_name, b.func_file).tolist() == []


def test_a_transform_carried_to_a_baseline_names_the_same_functions() -> None:
    new = ex.server_profile()
    base = Profile()
    base.intern_function("fetch", ex.WORKER, 5)
    base.intern_function("compute", ex.APP, 10)
    t = Transform(focus_path=(new.func_name.index("compute"), new.func_name.index("dumps")), merge_functions=frozenset({new.func_name.index("fetch")}))
    carried = map_transform(t, new, base)
    assert carried is not None
    assert carried.focus_path == (1, -1)  # dumps is not in the baseline: -1 matches no frame
    assert carried.merge_functions == frozenset({0})
    assert map_transform(Transform(), new, base) is None
