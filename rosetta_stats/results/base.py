"""The one shape every result has: ``.table`` (tidy), ``.parameters`` (what made it), ``.notes``, ``summary()``."""
from __future__ import annotations

import pandas as pd


class ResultShape:
    """Mixin for result dataclasses.

    A subclass has a ``table`` (a tidy DataFrame) and ``notes`` (strings), and
    defines ``summary_dict()`` (the run's settings and headline numbers, seed
    included) and ``summary()``. ``parameters`` is ``summary_dict()`` without
    the notes; ``__str__`` is the summary, so ``print(result)`` reads well.
    """

    table: pd.DataFrame
    notes: tuple[str, ...]

    def summary_dict(self) -> dict:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def parameters(self) -> dict:
        return {k: v for k, v in self.summary_dict().items() if k != "notes"}

    def summary(self) -> str:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __str__(self) -> str:
        return self.summary()
