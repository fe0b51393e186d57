"""The driver's live view of a run: a progress bar on a terminal, periodic lines elsewhere.

Figures come from the workers' counters: on this machine through the progress folder the workers
write to (``transforms.common.progress``), on a cluster from the runner's metrics while the driver
waits (Flink's job service and Dataflow answer while the job runs). ``--progress``: ``auto`` (a bar
when stderr is a terminal, else lines), ``bar``, ``log`` or ``none``.
"""

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from transforms.common import reasons

MODES = ("auto", "bar", "log", "none")
LOG_INTERVAL_VARIABLE = "WARCFORGE_PROGRESS_INTERVAL_S"  # between two log lines; tests shorten it
LOG_INTERVAL_S = 30.0
BAR_REFRESH_S = 0.5


@dataclass(frozen=True)
class Snapshot:
    """What the workers have done so far."""

    files: int
    bytes_read: int
    records: int
    documents: int  # documents that passed extraction and the filters (dedup runs at the end)
    elapsed_s: float

    @classmethod
    def of(cls, counts: dict[str, int], elapsed_s: float) -> "Snapshot":
        kept = counts.get(f"{reasons.FILTER}/{reasons.OUT}", counts.get(f"{reasons.EXTRACT}/{reasons.OUT}", 0))
        return cls(counts.get(f"{reasons.PROGRESS}/{reasons.FILES_DONE}", 0),
                   counts.get(f"{reasons.PROGRESS}/{reasons.BYTES_READ}", 0),
                   counts.get(f"{reasons.READ}/{reasons.IN}", 0), kept, elapsed_s)


def line(snapshot: Snapshot, total_files: int, total_bytes: int | None) -> str:
    """One progress line: files, records, documents and their rate, MB/s, elapsed and ETA."""
    elapsed = max(snapshot.elapsed_s, 1e-9)
    done = (snapshot.bytes_read / total_bytes if total_bytes else snapshot.files / max(total_files, 1))
    eta = (elapsed / done - elapsed) if 0 < done < 1 else None
    return (f"{snapshot.files:,}/{total_files:,} files, {snapshot.records:,} records, {snapshot.documents:,} documents "
            f"({snapshot.documents / elapsed:,.0f}/s), {snapshot.bytes_read / 1e6 / elapsed:,.1f} MB/s, "
            f"{_clock(elapsed)} elapsed" + (f", ETA {_clock(eta)}" if eta is not None else ""))


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def resolve_mode(mode: str, quiet: bool, stream: object = sys.stderr) -> str:
    if quiet:
        return "none"
    if mode == "auto":
        return "bar" if getattr(stream, "isatty", lambda: False)() else "log"
    return mode


class ProgressDisplay:
    """Polls ``source`` (counts so far) in a thread and shows them until ``stop``."""

    def __init__(self, mode: str, total_files: int, total_bytes: int | None,
                 source: Callable[[], dict[str, int]]) -> None:
        self.mode, self.total_files, self.total_bytes, self.source = mode, total_files, total_bytes, source
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.started = time.monotonic()

    def __enter__(self) -> "ProgressDisplay":
        if self.mode == "bar":
            # Loaded here, not by the thread: the build may fork its workers while the thread runs, and a
            # module the thread were importing at that moment would stay locked in the children.
            import rich.progress  # noqa: F401
        if self.mode in ("bar", "log"):
            self._thread = threading.Thread(target=self._run, name="warcforge-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def snapshot(self) -> Snapshot:
        return Snapshot.of(self.source(), time.monotonic() - self.started)

    def _run(self) -> None:
        if self.mode == "log":
            interval = float(os.environ.get(LOG_INTERVAL_VARIABLE, LOG_INTERVAL_S))
            while not self._stop.wait(interval):
                print(f"warcforge: progress: {line(self.snapshot(), self.total_files, self.total_bytes)}",
                      file=sys.stderr, flush=True)
            return
        # rich is loaded for the bar only: a build with --quiet or a log never needs it.
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.table import Column

        # A copy of stderr: on Ctrl-C the build points stderr at /dev/null to silence Beam's workers, and the
        # bar must still put the cursor back and end its line on the terminal.
        terminal = os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1, encoding="utf-8", errors="replace")
        console = Console(file=terminal)
        # Elapsed and ETA before the figures: on a narrow terminal the figures are cut, not the times.
        columns = (TextColumn("[bold]{task.description}"),
                   BarColumn(bar_width=20, table_column=Column(min_width=10)), TaskProgressColumn(),
                   TimeElapsedColumn(table_column=Column(min_width=7, no_wrap=True)),
                   TimeRemainingColumn(table_column=Column(min_width=7, no_wrap=True)),
                   TextColumn("{task.fields[figures]}",
                              table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis")))
        with terminal, Progress(*columns, console=console, transient=False, refresh_per_second=4, expand=True) as bar:
            unit = self.total_bytes or self.total_files or 1
            task = bar.add_task("build", total=unit, figures="")
            while True:
                stopping = self._stop.wait(BAR_REFRESH_S)
                now = self.snapshot()
                bar.update(task, completed=min(unit, now.bytes_read if self.total_bytes else now.files),
                           figures=f"{now.files:,}/{self.total_files:,} files  {now.records:,} records  "
                           f"{now.documents:,} docs ({now.documents / max(now.elapsed_s, 1e-9):,.0f}/s)  "
                           f"{now.bytes_read / 1e6 / max(now.elapsed_s, 1e-9):,.1f} MB/s")
                if stopping:  # the last figures as they are: a failed run does not end at 100 %
                    break
