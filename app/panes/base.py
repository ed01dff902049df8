"""The base class every dock pane derives from, and the shared function context menu.

A pane is a thin view over the Document: it reads the document in `refresh()`
(called by the window, throttled, only while the dock is visible and only
when the document changed) and writes back through the document's setters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QLayout, QMenu, QStackedWidget, QVBoxLayout, QWidget

from pyrometer.app.document import Document
from pyrometer.core.analysis.display_names import display_names

if TYPE_CHECKING:
    from pyrometer.core.analysis.transforms import Transform


def content_or_placeholder(content: QWidget, message: str) -> tuple[QStackedWidget, QLabel]:
    """A stack showing `content`, or a centred message when a pane has nothing to show.

    Switch with `stack.setCurrentWidget(content or label)`.
    """
    label = QLabel(message)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    stack = QStackedWidget()
    stack.addWidget(content)
    stack.addWidget(label)
    return stack, label


def rows_above(pane: QWidget, rows: list[QLayout], body: QWidget) -> None:
    """The panes' common layout: tool rows on top, `body` taking the rest, no outer margins."""
    lay = QVBoxLayout(pane)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(2)
    for row in rows:
        lay.addLayout(row)
    lay.addWidget(body, 1)


def on_escape(pane: QWidget, slot: Callable[[], Any]) -> None:
    """Escape pressed anywhere inside the pane (not only on the focused child) calls `slot`."""
    shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), pane)
    shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    shortcut.activated.connect(slot)


class Pane(QWidget):
    """A dock pane over one Document."""

    # Stable id: the saved layout, the refresh order, Document.request_pane and --screenshot-pane use it.
    pane_id: ClassVar[str] = "pane"
    title: ClassVar[str] = "Pane"  # for people (dock title, View menu); may change

    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.seen_revision = -1  # the window refreshes when doc.revision differs
        self.setObjectName(self.object_name())

    @classmethod
    def object_name(cls) -> str:
        """Stable name for QSettings/saveState (from the id, so a new title keeps saved layouts)."""
        return "pane_" + cls.pane_id

    @classmethod
    def answers_to(cls, key: str) -> bool:
        """True if `key` names this pane: its id or its title, in any case."""
        k = key.strip().lower()
        return k in (cls.pane_id, cls.title.lower())

    def refresh(self) -> None:
        """Re-read the document and update the view. Override."""

    def focus_search(self) -> bool:
        """Put keyboard focus in this pane's search/filter box; False if it has none."""
        return False

    def export_widget(self) -> QWidget | None:
        """The plot widget File › Export image should save, if this pane has one."""
        return None

    def apply_theme(self) -> None:
        """Called after the light/dark palette changed (plots pick new colours here); a refresh follows."""

    def shows_nothing(self) -> bool:
        """True when the pane has only its placeholder to show (a restored layout then keeps it behind)."""
        return False


# --------------------------------------------------------------------------- transforms
def _current(doc: Document) -> Transform:
    from pyrometer.core.analysis.transforms import Transform

    return doc.transform if doc.transform is not None else Transform()


def _set(doc: Document, **changes: Any) -> None:
    new = dataclasses.replace(_current(doc), **changes)
    from pyrometer.core.analysis.transforms import Transform

    doc.set_transform(None if new == Transform() else new)


def focus_function(doc: Document, func: int) -> None:
    _set(doc, focus_function=int(func), focus_path=None)


def focus_path(doc: Document, path: tuple[int, ...]) -> None:
    _set(doc, focus_path=tuple(int(f) for f in path), focus_function=None)


def merge_function(doc: Document, func: int) -> None:
    cur = _current(doc)
    _set(doc, merge_functions=frozenset(cur.merge_functions) | {int(func)})


def collapse_recursion(doc: Document, func: int) -> None:
    cur = _current(doc).collapse_recursion
    if cur is True:
        return
    funcs = frozenset(cur) if isinstance(cur, frozenset) else frozenset()
    _set(doc, collapse_recursion=funcs | {int(func)})


def set_my_code_only(doc: Document, on: bool) -> None:
    _set(doc, my_code_only=bool(on))


def describe_transform(doc: Document) -> str:
    """Short human text of the active transform ("" when none), for a banner."""
    t = doc.transform
    if t is None:
        return ""
    parts: list[str] = []
    name = display_names(doc.profile)
    if t.focus_function is not None:
        parts.append(f"focus on {name[t.focus_function]}")
    if t.focus_path:
        parts.append("focus on " + " › ".join(name[f] for f in t.focus_path[-3:]))
    if t.merge_functions:
        parts.append("merged " + ", ".join(sorted(name[f] for f in t.merge_functions)))
    if t.collapse_recursion is True:
        parts.append("recursion collapsed")
    elif t.collapse_recursion:
        parts.append("collapsed recursion of " + ", ".join(sorted(name[f] for f in t.collapse_recursion)))
    if t.my_code_only:
        parts.append("my code only")
    return "; ".join(parts)


def add_function_actions(
    menu: QMenu, doc: Document, func: int, path: tuple[int, ...] | None = None
) -> list[QAction]:
    """Append the standard per-function actions (select, focus, merge, collapse, my code) to a menu.

    Every pane's context menu uses this so transforms behave the same everywhere.
    """
    actions: list[QAction] = []

    def add(text: str, slot: Any, checkable: bool = False, checked: bool = False) -> QAction:
        act = menu.addAction(text)
        if checkable:
            act.setCheckable(True)
            act.setChecked(checked)
        act.triggered.connect(slot)
        actions.append(act)
        return act

    if func >= 0:
        label = display_names(doc.profile)[func]
        short = label if len(label) <= 40 else label[:37] + "…"
        add(f"Focus on “{short}”", lambda: focus_function(doc, func))
        if path:
            add("Focus on this call path", lambda: focus_path(doc, path))
        add(f"Merge “{short}” into callers", lambda: merge_function(doc, func))
        add(f"Collapse recursion of “{short}”", lambda: collapse_recursion(doc, func))
        menu.addSeparator()
    my = doc.transform is not None and doc.transform.my_code_only
    add("My code only", lambda checked: set_my_code_only(doc, checked), checkable=True, checked=my)
    if doc.transform is not None:
        add("Reset transforms", lambda: doc.set_transform(None))
    return actions
