"""Moderated statistics from Bioconductor's limma (Debian r-bioc-limma), through the one R session.

``moderated_vs_reference(values, groups, reference)``: a linear model per
column of ``values`` (rows = samples) with one coefficient per group against
the reference group (treatment contrasts), shrunk by ``eBayes``; returns the
coefficients (mean differences), moderated t, p-values and the prior degrees
of freedom, each (groups x columns).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .r_session import RSession

LIMMA_HINT = "effect sizes use Bioconductor's limma: install the Debian package r-bioc-limma (make setup does)"

_FIT = """function(values, groups, reference) {
  groups <- relevel(factor(groups), ref = reference)
  design <- stats::model.matrix(~ groups)
  fit <- limma::eBayes(limma::lmFit(t(values), design))
  keep <- colnames(design) != "(Intercept)"
  list(levels = sub("^groups", "", colnames(design)[keep]),
       coefficients = t(fit$coefficients[, keep, drop = FALSE]),
       t = t(fit$t[, keep, drop = FALSE]),
       p = t(fit$p.value[, keep, drop = FALSE]),
       df_prior = as.double(fit$df.prior)[1])
}"""


def moderated_vs_reference(values: np.ndarray, groups: Sequence[str], reference: str) -> dict:
    """limma's lmFit + eBayes of every column against the reference group; arrays are (groups x columns)."""
    session = RSession.get()
    session.package("limma", LIMMA_HINT)
    ro = session.ro
    out = ro.r(_FIT)(session.matrix(values), ro.StrVector([str(g) for g in groups]), ro.StrVector([reference]))
    parts = dict(zip(out.names, out))
    return {"levels": session.strings(parts["levels"]),
            "coefficients": np.asarray(session.to_python(parts["coefficients"]), dtype=float),
            "t": np.asarray(session.to_python(parts["t"]), dtype=float),
            "p": np.asarray(session.to_python(parts["p"]), dtype=float),
            "df_prior": float(np.asarray(session.to_python(parts["df_prior"])).ravel()[0])}
