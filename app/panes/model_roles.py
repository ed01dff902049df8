"""Item-data roles and alignments shared by the pane models, as plain ints.

`data()` is called thousands of times per repaint; comparing plain ints is
much cheaper than comparing PySide6 enum objects.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

FUNC_ID_ROLE = Qt.ItemDataRole.UserRole + 1  # the function id behind a row, in every pane model

DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
ALIGN = int(Qt.ItemDataRole.TextAlignmentRole.value)
BACKGROUND = int(Qt.ItemDataRole.BackgroundRole.value)
LEFT = int((Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter).value)
RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
FUNC_ID = int(FUNC_ID_ROLE)

Index = QModelIndex | QPersistentModelIndex
