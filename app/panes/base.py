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
from PySide6.QtGui import QAction, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import QLabel, QLayout, QMenu, QStackedWidget, QVBoxLayout, QWidget

from pyrometer.app.document import Document
from pyrometer.core.analysis.display_names import display_names
from pyrometer.core.analysis.task_stacks import is_task_function

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
    # True when the pane shows the whole session from a recording's preview (its index's sums) as a full
    # read would; the others say "Loading detail…" until the samples are read (Document.detail_pending)
    from_preview: ClassVar[bool] = False

    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.seen_revision = -1  # the window refreshes when doc.revision differs
        self.setObjectName(self.object_name())
        self._pending: QLabel | None = None  # covers the pane while what it shows is not read yet

    def can_show(self) -> bool:
        """Whether what the document holds now is enough for this pane (not a preview it cannot draw from)."""
        doc = self.doc
        return not doc.detail_pending or (self.from_preview and doc.preview_answers() and doc.detail_error is None)

    def show_pending(self, text: str | None) -> None:
        """Cover the pane with `text` ("Loading detail… 40%") rather than show wrong or empty data; None uncovers it."""
        label = self._pending
        if text is None:
            if label is not None and label.isVisible():
                label.hide()
            return
        if label is None:
            label = QLabel(self)
            label.setObjectName("pending_detail")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setAutoFillBackground(True)
            label.setWordWrap(True)
            self._pending = label
        label.setText(text)
        label.setGeometry(self.rect())
        label.raise_()
        label.show()

    def pending_text(self) -> str | None:
        """The text covering the pane, None when uncovered (tests read it)."""
        return self._pending.text() if self._pending is not None and not self._pending.isHidden() else None

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._pending is not None:
            self._pending.setGeometry(self.rect())

    @classmethod
    def object_name(cls) -> str:
        """Stable name for QSettings/saveState (from the id, so a new title keeps saved layouts)."""
        return "pane_" + cls.pane_id

    @classmethod
    def answers_to(cls, key: str) -> bool:
        """True if `key` names this pane: its id or its title, in any case."""
        k = key.strip().lower()
        return k in (cls.pane_id, cls.title.lower())

    def on_screen(self) -> bool:
        """Shown and not behind another tab (`isVisible` stays True for a dock tabbed behind another)."""
        if not self.isVisible():
            return False
        cover = self._pending  # the "Loading detail…" label covers the pane: Qt counts the pane as hidden under it
        return not self.visibleRegion().isEmpty() or (cover is not None and cover.isVisible() and not cover.visibleRegion().isEmpty())

    def stale_while_hidden(self) -> bool:
        """True (and the pane marked stale) when it is not on screen: a view change is drawn when it is shown.

        A pane tabbed behind another (`isVisible` True there) laid out its boxes again for every time view a
        replay's playhead published; the window refreshes a stale pane when it comes to the front.
        """
        if self.on_screen():
            return False
        self.seen_revision = -1
        return True

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


# --------------------------------------------------------------------------- by task
BY_TASK_SHORTCUT = "Ctrl+T"
BY_TASK_TIP = (
    "By task ({key}): each sample that ran in an asyncio task goes under that task, under the task awaiting it "
    "(or, where none was seen, the one that created it) up to the root, so time rolls up per request. "
    "A task seen awaited by several tasks goes under <several awaiters>."
)
NO_TASKS_TIP = "By task: no sample of this profile ran in an asyncio task"


def by_task_action(pane: Pane) -> QAction:
    """The checkable "By task" action of a tree pane (shortcut while the pane has focus); the state is the document's."""
    act = QAction("By task", pane)
    act.setCheckable(True)
    act.setShortcut(QKeySequence(BY_TASK_SHORTCUT))
    act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # each tree pane has its own
    pane.addAction(act)
    act.setChecked(pane.doc.by_task)
    act.toggled.connect(pane.doc.set_by_task)
    pane.doc.byTaskChanged.connect(act.setChecked)
    update_by_task_action(act, pane.doc)
    return act


def update_by_task_action(act: QAction, doc: Document) -> None:
    """Enabled only when some sample ran in a task (a live session gains its first ones later)."""
    ok = doc.has_tasks()
    act.setEnabled(ok)
    act.setToolTip(BY_TASK_TIP.format(key=BY_TASK_SHORTCUT) if ok else NO_TASKS_TIP)


def is_task_frame(doc: Document, func: int) -> bool:
    """A synthetic `<task ...>` function of the by-task trees: no real code to select, focus or merge."""
    return is_task_function(doc.tree_profile(), func)


def path_for_actions(doc: Document, path: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """A tree path "Focus on this call path" can use: none through task frames (under a task the
    loop's frames are left out, so the path is no stack of the profile the transforms act on)."""
    if path is None or any(is_task_frame(doc, f) for f in path):
        return None
    return path


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
