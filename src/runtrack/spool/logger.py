"""The scalar logger of a spool writer (``SpoolWriter.scalar_logger``): C or Python.

Where setup.py could build ``_scalar.c`` (any machine with a C compiler), the writer's
cursor is a C object that holds the writer's position (``offset``, ``last_point``) and a
buffer of its mapped segment, and is itself the logger: one C call per point. Elsewhere
the cursor is :class:`PyCursor` and the logger the Python function of
:func:`python_logger`, with the same checks in the same order.
``tests/spool/test_scalar_logger.py`` runs every case against both.
"""

from __future__ import annotations

import mmap
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runtrack.spool import record as R

if TYPE_CHECKING:
    from runtrack.spool.writer import SpoolWriter

CCursor: Any
try:
    from runtrack.spool._scalar import Cursor as CCursor
except ImportError:  # not built: the Python twin below
    CCursor = None

# the Python logger's names: module globals are the cheapest loads after constants
_clock = time.time
_get_ident = threading.get_ident
_pack_float = R.FLOAT_BODY.pack_into
_pack_int = R.INT_BODY.pack_into
_COMMIT = R.COMMIT_BYTES
_POINT, _NO_STEP, _INT64_MIN = R.POINT_SIZE, R.NO_STEP, -(2**63)

Slow = Callable[[str, Any, str, Any], None]


class PyCursor:
    """A writer's position where the C cursor is not built."""

    __slots__ = ("last_point", "offset")

    def __init__(self) -> None:
        self.offset = 0
        self.last_point = -_POINT

    def map(self, mm: mmap.mmap) -> None:
        """The C cursor keeps a buffer of the mapping; this one needs none."""

    def unmap(self) -> None:
        pass


def new_cursor() -> Any:
    """A cursor for a new writer (made in the writer's thread)."""
    return PyCursor() if CCursor is None else CCursor()


def scalar_logger(writer: SpoolWriter, slow: Slow) -> Callable[..., None]:
    """``writer``'s scalar logger (see ``SpoolWriter.scalar_logger``). The C cursor binds
    the usual calls' arguments itself and has :func:`bind_log_arguments` bind the others
    (a keyword dict, ``name=``). Neither logger forms a reference cycle with the
    writer, so a dropped run handle frees its writer at once."""
    cursor = writer._cursor
    if not isinstance(cursor, PyCursor):
        cursor.bind(writer._heads, writer._int_heads, slow, bind_log_arguments)
        return cursor  # type: ignore[no-any-return]
    return python_logger(writer, slow)


def bind_log_arguments(
    name: str, value: Any, description: str = "", step: Any = None
) -> tuple[str, Any, str, Any]:
    """``log``'s signature, for the C scalar logger's unusual calls."""
    return name, value, description, step


def python_logger(writer: SpoolWriter, slow: Slow) -> Callable[..., None]:
    """The scalar logger in Python: the checks of ``_scalar.c`` in the same order, each
    the cheapest CPython 3.11 has for it."""
    heads, int_heads, thread, cursor = (
        writer._heads, writer._int_heads, writer.thread, writer._cursor
    )

    def log(name: str, value: Any, description: str = "", step: Any = None) -> None:
        # ``bit_length`` is a range check without comparing big ints, ``heads[name]`` a
        # dict lookup without a method call (a miss, or an unhashable name, costs an
        # exception, and goes the slow way anyway)
        if step is None:
            at = _NO_STEP
        elif type(step) is int and step.bit_length() < 64:  # -2**63 is the no-step mark
            at = step
        else:
            return slow(name, value, description, step)
        # a description other than "" or None goes the slow way before the position is
        # read: asking an object for its truth could run code that logs meanwhile
        if description is not None and (type(description) is not str or description):
            return slow(name, value, description, step)
        off = cursor.offset
        if off > cursor.last_point or _get_ident() != thread:
            return slow(name, value, description, step)
        if type(value) is float:
            try:
                _pack_float(writer.mm, off, heads[name], at, _clock(), value, _COMMIT)
            except (KeyError, TypeError):
                return slow(name, value, description, step)
        elif type(value) is int and (value.bit_length() < 64 or value == _INT64_MIN):
            try:
                _pack_int(writer.mm, off, int_heads[name], at, _clock(), value, _COMMIT)
            except (KeyError, TypeError):
                return slow(name, value, description, step)
        else:
            return slow(name, value, description, step)
        cursor.offset = off + _POINT  # one more point: see ``SpoolWriter.seq``
        return None

    return log
