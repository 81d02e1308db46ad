"""Gene -> GO terms from Bioconductor's org.Hs.eg.db and GO.db (Debian r-bioc-*), through the one R session.

``go_table(entrez_ids)``: one row per (gene, GO term) with the term's
ontology and name; terms include every ancestor of a gene's annotations
(``GOALL``), as enrichment tests expect. ``annotation_versions()`` names the
package versions the table comes from (the cache key).
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .r_session import RSession

GO_HINT = "GO enrichment reads Bioconductor's org.Hs.eg.db and GO.db: install r-bioc-org.hs.eg.db and r-bioc-go.db"

_TABLE = """function(entrez) {
  suppressMessages({
    x <- AnnotationDbi::select(org.Hs.eg.db::org.Hs.eg.db, keys = entrez, keytype = "ENTREZID",
                               columns = c("GOALL", "ONTOLOGYALL"))
    x <- unique(x[!is.na(x$GOALL), c("ENTREZID", "GOALL", "ONTOLOGYALL")])
    terms <- AnnotationDbi::select(GO.db::GO.db, keys = unique(x$GOALL), columns = "TERM", keytype = "GOID")
  })
  x$TERM <- terms$TERM[match(x$GOALL, terms$GOID)]
  list(entrez = x$ENTREZID, go_id = x$GOALL, ontology = x$ONTOLOGYALL, term = x$TERM)
}"""


def annotation_versions() -> dict[str, str]:
    session = RSession.get()
    version = session.ro.r("function(p) as.character(utils::packageVersion(p))")
    out = {}
    for name in ("org.Hs.eg.db", "GO.db"):
        session.require(name, GO_HINT)
        out[name] = str(version(name)[0])
    return out


def go_table(entrez_ids: Sequence[str]) -> pd.DataFrame:
    """(entrez, go_id, ontology, term) for the given Entrez gene ids."""
    session = RSession.get()
    for name in ("org.Hs.eg.db", "GO.db"):
        session.require(name, GO_HINT)
    out = session.ro.r(_TABLE)(session.ro.StrVector([str(e) for e in entrez_ids]))
    parts = dict(zip(out.names, out))
    return pd.DataFrame({k: session.strings(v) for k, v in parts.items()})
