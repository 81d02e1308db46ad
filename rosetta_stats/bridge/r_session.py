"""The one R session: rpy2 started once, R packages attached on first use, data across as matrices.

Every part of the package that talks to R (cytominer's verbs, parquet
through nanoparquet, RDS files, limma and the annotation packages) goes
through :class:`RSession`. rpy2 is imported lazily, so ``import
rosetta_stats`` works on a machine without R; a missing piece raises
:class:`RBackendUnavailable` naming what to install.
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import CytominerError, RBackendUnavailable

SETUP_HINT = (
    "run `make setup` in the rosetta_stats checkout (it installs R, python3-rpy2, "
    "the CRAN package cytominer and the rosettabridge R package)"
)


class RSession:
    """The rpy2 objects the package needs, created on first use; R packages attached on demand."""

    _instance: "RSession | None" = None

    def __init__(self) -> None:
        os.environ.setdefault("TZ", "UTC")  # R asks systemd for the zone otherwise
        try:
            import rpy2.robjects as ro
            from rpy2.robjects import numpy2ri
            from rpy2.robjects.conversion import localconverter
            from rpy2.robjects.packages import PackageNotInstalledError, importr
        except Exception as exc:  # ImportError, or R failing to start
            raise RBackendUnavailable(f"rpy2 with R is not available ({exc}); {SETUP_HINT}") from exc
        self.ro = ro
        self.converter = ro.default_converter + numpy2ri.converter
        self.localconverter = localconverter
        self._importr, self._not_installed = importr, PackageNotInstalledError
        self._packages: dict[str, Any] = {}

    @classmethod
    def get(cls) -> "RSession":
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def package(self, name: str, hint: str | None = None):
        """The attached R package ``name`` (an error naming it, and how to install it, when missing)."""
        if name not in self._packages:
            try:
                self._packages[name] = self._importr(name)
            except self._not_installed as exc:
                raise RBackendUnavailable(f"the R package {name!r} is not installed; {hint or SETUP_HINT}") from exc
        return self._packages[name]

    def require(self, name: str, hint: str | None = None) -> None:
        """Load the R package ``name``'s namespace without wrapping its objects (annotation packages hold
        defunct functions that speak when touched); an error naming it when missing."""
        if name in self._packages:
            return
        loaded = self.ro.r(f'function() suppressMessages(requireNamespace("{name}", quietly = TRUE))')()
        if not bool(loaded[0]):
            raise RBackendUnavailable(f"the R package {name!r} is not installed; {hint or SETUP_HINT}")
        self._packages[name] = None

    @property
    def bridge(self):
        """rosettabridge (which needs cytominer)."""
        self.package("cytominer")
        return self.package("rosettabridge")

    # Python -> R ---------------------------------------------------------------------
    def metadata_vector(self, values: Sequence[Any] | pd.Series):
        """A plain R vector: numbers as double, everything else as character."""
        ro = self.ro
        series = pd.Series(values)
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            return ro.FloatVector(series.astype(float).to_numpy())
        return ro.StrVector([ro.NA_Character if pd.isna(v) else str(v) for v in series])

    def named_list(self, columns: Mapping[str, Any]):
        return self.ro.ListVector({k: self.metadata_vector(v) for k, v in columns.items()})

    def matrix(self, values: np.ndarray):
        with self.localconverter(self.converter):
            return self.ro.conversion.get_conversion().py2rpy(
                np.asfortranarray(values, dtype=float)
            )

    # R -> Python ---------------------------------------------------------------------
    def to_python(self, obj) -> Any:
        with self.localconverter(self.converter):
            return self.ro.conversion.get_conversion().rpy2py(obj)

    def strings(self, vector) -> list[str | None]:
        na = self.ro.NA_Character
        return [None if v is na else str(v) for v in vector]

    def column(self, vector) -> np.ndarray | list:
        if isinstance(vector, self.ro.vectors.StrVector):
            return self.strings(vector)
        return np.asarray(vector, dtype=float)

    def call(self, function: str, **kwargs) -> Any:
        """Call ``rosettabridge::function``; R errors become :class:`CytominerError`."""
        ro = self.ro
        args = ro.ListVector({k: (ro.NULL if v is None else v) for k, v in kwargs.items()})
        outcome = self.bridge.bridge_call(getattr(self.bridge, function), args)
        outcome = dict(zip(outcome.names, outcome))
        for message in self.strings(outcome["warnings"]):
            warnings.warn(message, UserWarning, stacklevel=3)
        errors = self.strings(outcome["error"])
        if errors:
            raise CytominerError(errors[0])
        return outcome["value"]

    def frame_parts(self, frame, variables: Sequence[str]) -> dict[str, Any]:
        parts = self.bridge.bridge_parts(frame, self.ro.StrVector(list(variables)))
        parts = dict(zip(parts.names, parts))
        metadata = parts["metadata"]
        meta_names = list(metadata.names) if len(metadata) else []
        return {
            "metadata": {n: self.column(v) for n, v in zip(meta_names, metadata)},
            "values": np.asarray(self.to_python(parts["values"]), dtype=float),
            "variables": self.strings(parts["variables"]),
            "parameters": parts["parameters"],
            "dropped": parts["dropped"],
        }

    def attribute(self, obj, name: str):
        return self.ro.baseenv["attr"](obj, name)

    def small_frame(self, frame) -> pd.DataFrame:
        """A small R data frame of plain columns (parameters, dropped lists)."""
        if frame is self.ro.NULL:
            return pd.DataFrame()
        return pd.DataFrame({n: self.column(v) for n, v in zip(frame.names, frame)})


