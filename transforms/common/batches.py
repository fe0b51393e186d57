"""Batch names of ``warcforge watch``: a batch is one window of arrival time, named by its bounds.

A name depends only on the window (``20261130T061500Z-20261130T062000Z``), so a batch computed
twice (a restart, a replay after a failure) gets the same name, and a publish can tell it was
published already. Times are whole milliseconds, as runners keep them.
"""

from datetime import datetime, timezone

NAME_FORMAT = "%Y%m%dT%H%M%SZ"


def stamp(ms: int) -> str:
    """A time in milliseconds since the epoch, as a batch name writes it (seconds, UTC)."""
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime(NAME_FORMAT)


def batch_name(start_ms: int, end_ms: int) -> str:
    return f"{stamp(start_ms)}-{stamp(end_ms)}"


def window_ms(window: object) -> tuple[int, int]:
    """A Beam window's bounds in milliseconds (``window.start`` and ``.end`` are Beam timestamps)."""
    return window.start.micros // 1000, window.end.micros // 1000


def window_of(ms: int, window_s: int) -> tuple[int, int]:
    """The batch window [start, end) holding the time ``ms``, as FixedWindows(window_s) assigns it."""
    size = window_s * 1000
    start = ms - ms % size
    return start, start + size


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso_ms(text: str) -> int:
    """``iso``'s text back to milliseconds."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round(parsed.timestamp() * 1000)
