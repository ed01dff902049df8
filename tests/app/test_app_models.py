"""Qt item models of the app panes: qtmodeltester on each, plus sort/filter/tree-shape checks."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QModelIndex, Qt

from pyrometer.app.line_costs import line_costs
from pyrometer.app.panes.caller_model import CallerCalleeModel
from pyrometer.app.panes.function_model import (
    COL_FUNCTION,
    COL_SELF,
    COL_TOTAL,
    FunctionTableModel,
)
from pyrometer.app.panes.model_roles import FUNC_ID_ROLE
from pyrometer.app.panes.source import SourceModel
from pyrometer.app.panes.tree_model import CallTreeModel
from pyrometer.core.analysis.callers import callers_callees
from pyrometer.core.analysis.calltree import call_tree, inverted_tree
from pyrometer.core.analysis.functions import function_table
from pyrometer.core.analysis.selection import Selection, sample_indices
from pyrometer.core.example_profiles import SERVER_SELF, SERVER_TOTAL, server_profile
from pyrometer.core.model import Profile


def _names(model: FunctionTableModel) -> list[str]:
    return [model.data(model.index(r, COL_FUNCTION)) for r in range(model.rowCount())]


def test_function_model_passes_modeltester_and_sorts(qtmodeltester):
    p = server_profile()
    model = FunctionTableModel()
    model.set_table(function_table(p), p.func_name, p.func_file, p.func_line, p.unit)
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == len(SERVER_TOTAL)
    model.sort(COL_SELF, Qt.SortOrder.DescendingOrder)
    assert _names(model)[:2] == ["compute", "fetch"]
    model.sort(COL_TOTAL, Qt.SortOrder.DescendingOrder)
    top_total = _names(model)[0]
    assert SERVER_TOTAL[top_total] == max(SERVER_TOTAL.values())
    model.sort(COL_FUNCTION, Qt.SortOrder.AscendingOrder)
    names = _names(model)
    assert names == sorted(names, key=str.lower)
    qtmodeltester.check(model, force_py=True)


def test_function_model_filter_and_top_n(qtmodeltester):
    p = server_profile()
    model = FunctionTableModel()
    model.set_table(function_table(p), p.func_name, p.func_file, p.func_line, p.unit)
    model.set_filter("worker")  # matches the file /srv/app/worker.py
    assert sorted(_names(model)) == ["fetch", "worker_loop"]
    model.set_filter("")
    model.set_top_n(3)
    assert model.rowCount() == 3 and model.total_matching() == len(SERVER_TOTAL)
    qtmodeltester.check(model, force_py=True)
    func = model.data(model.index(0, 0), FUNC_ID_ROLE)
    assert model.row_of_func(func) == 0


def test_function_model_values_in_seconds():
    p = server_profile()
    model = FunctionTableModel()
    model.set_table(function_table(p), p.func_name, p.func_file, p.func_line, p.unit)
    model.sort(COL_SELF, Qt.SortOrder.DescendingOrder)
    assert model.data(model.index(0, COL_SELF)) == f"{SERVER_SELF['compute'] * 1000:.1f} ms"


def _walk(model: CallTreeModel, parent: QModelIndex = QModelIndex(), depth: int = 0) -> list[str]:  # noqa: B008
    out = []
    for r in range(model.rowCount(parent)):
        idx = model.index(r, 0, parent)
        out.append("  " * depth + model.data(idx))
        out += _walk(model, idx, depth + 1)
    return out


def test_call_tree_model_modeltester_and_shape(qtmodeltester):
    p = server_profile()
    model = CallTreeModel()
    model.set_tree(call_tree(p), p.func_name, p.func_file, p.func_line, p.unit)
    qtmodeltester.check(model, force_py=True)
    lines = _walk(model)
    # hottest first at every level
    assert lines[0] == "<module>" and lines[1] == "  main" and lines[2] == "    Server.handle"
    assert lines[3] == "      compute"
    hot = model.hottest_path()
    assert [p.func_name[int(model.tree.func[n])] for n in hot] == ["<module>", "main", "Server.handle", "compute"]
    node = model.find_path(model.path_of(hot[-1]))
    assert node == hot[-1]
    idx = model.index_of_node(node)
    assert model.data(idx) == "compute" and model.node_of(idx.parent()) == hot[-2]


def test_inverted_tree_model(qtmodeltester):
    p = server_profile()
    model = CallTreeModel()
    model.set_tree(inverted_tree(p), p.func_name, p.func_file, p.func_line, p.unit)
    qtmodeltester.check(model, force_py=True)
    tops = [model.data(model.index(r, 0)) for r in range(model.rowCount())]
    assert tops[0] == "compute"  # the function with the most self time leads bottom-up
    assert set(tops) == set(SERVER_SELF)


def test_empty_models(qtmodeltester):
    p = Profile()
    p.finish()
    tm = CallTreeModel()
    tm.set_tree(call_tree(p), p.func_name, p.func_file, p.func_line, p.unit)
    qtmodeltester.check(tm, force_py=True)
    fm = FunctionTableModel()
    fm.set_table(function_table(p), [], [], [], p.unit)
    qtmodeltester.check(fm, force_py=True)
    assert fm.rowCount() == 0 and tm.rowCount() == 0


def test_caller_callee_model(qtmodeltester):
    p = server_profile()
    handle = p.func_name.index("Server.handle")
    cc = callers_callees(p, handle)
    model = CallerCalleeModel("Callees")
    model.set_rows(list(cc.callees), p.func_name, p.unit, 1.3)
    qtmodeltester.check(model, force_py=True)
    assert [model.data(model.index(r, 0)) for r in range(model.rowCount())] == ["compute", "dumps"]
    callers = CallerCalleeModel("Callers")
    callers.set_rows(list(cc.callers), p.func_name, p.unit, 1.3)
    assert [callers.data(callers.index(r, 0)) for r in range(callers.rowCount())] == ["main"]


def test_source_model_line_costs(qtmodeltester, tmp_path):
    src = tmp_path / "mod.py"
    src.write_text("def f():\n    a = 1\n    b = g()\n    return a\n\ndef g():\n    return 2\n")
    p = Profile()
    f_top = p.intern_frame("f", str(src), 2, 1)
    f_call = p.intern_frame("f", str(src), 3, 1)
    g = p.intern_frame("g", str(src), 7, 6)
    s1 = p.intern_stack_path([f_top])
    s2 = p.intern_stack_path([f_call, g])
    p.add_samples(np.arange(5) * 0.01, np.zeros(5, np.int32), np.asarray([s1, s1, s2, s2, s2], np.int32), weight=0.01)
    p.finish()
    func_f = p.frame_func(f_top)
    costs = line_costs(p, func_f, sample_indices(p, Selection()))
    assert costs.lines.tolist() == [2, 3]
    assert np.allclose(costs.self_weight, [0.02, 0.0])
    assert np.allclose(costs.total_weight, [0.02, 0.03])
    model = SourceModel()
    model.set_source(src.read_text().splitlines(), costs, p.unit)
    qtmodeltester.check(model, force_py=True)
    assert model.hottest_row() == 2  # line 3 (the call into g) carries the most total
    assert model.data(model.index(2, 2)) == "30.0 ms"
    assert model.data(model.index(0, 1)) == ""


def test_function_model_shows_trace_columns_with_their_clock(qtmodeltester):
    """Trace mode's exact figures get their own columns, and the header says the clock."""
    from pyrometer.app.panes.function_model import COL_CALLS, COL_PER_CALL, COL_TRACED_SELF
    from pyrometer.core.model import FuncStats

    p = server_profile()
    compute = p.func_name.index("compute")
    p.func_stats = FuncStats(
        clock="cpu",
        func=np.array([compute], np.int32),
        calls=np.array([7], np.int64),
        prim_calls=np.array([7], np.int64),
        self_time=np.array([0.35]),
        total_time=np.array([0.7]),
    )
    table = function_table(p)
    assert table.trace_clock == "cpu"
    model = FunctionTableModel()
    model.set_table(table, p.func_name, p.func_file, p.func_line, p.unit)
    qtmodeltester.check(model, force_py=True)
    assert model.headerData(COL_TRACED_SELF, Qt.Orientation.Horizontal) == "CPU self"
    assert model.headerData(COL_PER_CALL, Qt.Orientation.Horizontal) == "CPU/call"
    row = _names(model).index("compute")
    assert model.data(model.index(row, COL_CALLS)) == "7"
    assert model.data(model.index(row, COL_TRACED_SELF)) != "–"
    assert function_table(p, Selection(t0=0.0, t1=0.5)).trace_clock is None  # whole-run figures: not in a range
