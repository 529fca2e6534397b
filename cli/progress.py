"""A progress bar on stderr for long library calls, drawn only when stderr is a terminal."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from .common import stderr

Update = Callable[[int, "int | None", str], None]  # (done, total or None, description)


@contextmanager
def progress_bar(description: str, *, every_s: float = 0.1) -> Iterator[Update]:
    """Yields `update(done, total, description)`. The bar redraws only when updated (at most
    every `every_s`): no drawing thread, so worker processes can be forked safely."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        auto_refresh=False,
        disable=not stderr.is_terminal,
    )
    with bar:
        task = bar.add_task(description, total=None)
        last = 0.0

        def update(done: int, total: int | None, text: str = description) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= every_s or (total is not None and done >= total):
                bar.update(task, completed=done, total=total, description=text, refresh=True)
                last = now

        yield update
