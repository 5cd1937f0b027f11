"""The progress bar `index` draws on a terminal."""
from __future__ import annotations

import sys
from typing import Any


class ProgressBar:
    """A tqdm bar on a terminal that follows the indexer's Progress object: files read (the
    words phase), then chunks embedded with the time left from tokens (the meaning phase)."""

    FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit} [{elapsed}{postfix}]"

    def __init__(self, enabled: bool, file: Any = None):
        self.file = file or sys.stderr
        self.enabled = enabled and (file is not None or sys.stderr.isatty())
        self.bar: Any = None
        self.phase = "words"

    def __enter__(self) -> Any:
        from search.ingest.progress import Progress

        if not self.enabled:
            return Progress()
        from tqdm import tqdm

        self.bar = tqdm(total=0, desc="Reading", unit="files", file=self.file, dynamic_ncols=True,
                        bar_format=self.FORMAT)

        def follow(progress: Progress) -> None:
            bar = self.bar
            if progress.phase == "meaning" and self.phase == "words":
                self.phase = "meaning"
                bar.set_description_str("Embedding", refresh=False)  # set_description adds ": "
                bar.unit = "chunks"
                bar.reset(total=progress.chunks_total)
            if self.phase == "words":
                bar.total = progress.files_total
                bar.update(progress.files_done - bar.n)
                bar.set_postfix_str(f"{progress.files_failed} failed" if progress.files_failed else "", refresh=False)
            else:
                bar.total = progress.chunks_total
                eta = progress.eta_seconds
                left = progress.chunks_done < progress.chunks_total and eta is not None
                # The time left before the bar moves: what it draws at 100% says nothing is left.
                bar.set_postfix_str(f"{minutes(eta)} left" if left else "", refresh=False)
                bar.update(progress.chunks_done - bar.n)

        return Progress(listener=follow)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
