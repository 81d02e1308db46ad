# Build rosetta_stats/data/annotations/l1000_genes.csv: every L1000 probe of the paper's table with the
# gene the LINCS landmark list names, its Entrez id and its current symbol, resolved with Bioconductor's
# org.Hs.eg.db (not with the paper's idmap.xlsx, which took some old names to the wrong gene).
#
#   Rscript tools/build_gene_table.R ../shared/reference/l1000_probe_to_gene.csv \
#       ../shared/data/real/cdrp_cmea_l1000_consensus.csv.gz
#
# 1. The LINCS names of the 978 landmarks are the columns of the CMEA L1000 file (R's make.names turned
#    '-' into '.'); each resolves to Entrez ids (as a current symbol, else as an alias).
# 2. Each probe's old names (the paper's, split at '///') resolve the same way; a probe is a landmark when
#    its ids meet exactly one LINCS name's ids (this pairs the 978 probes and the 978 names one to one).
# 3. Its Entrez id is the id both sides share. Four LINCS names are aliases of two genes each; HGNC lists
#    them as previous symbols of one of the two (CHP -> CHP1, HN1L -> JPT2, B3GNT1 -> B4GAT1,
#    CD97 -> ADGRE5), which decides.
# 4. The current symbol is org.Hs.eg.db's symbol of that id.
suppressMessages(library(org.Hs.eg.db))
args <- commandArgs(trailingOnly = TRUE)
ref_path <- if (length(args) >= 1) args[1] else "../shared/reference/l1000_probe_to_gene.csv"
cmea_path <- if (length(args) >= 2) args[2] else "../shared/data/real/cdrp_cmea_l1000_consensus.csv.gz"
previous_symbol <- c(CHP = "CHP1", HN1L = "JPT2", B3GNT1 = "B4GAT1", CD97 = "ADGRE5")

symbols <- AnnotationDbi::toTable(org.Hs.egSYMBOL)
aliases <- AnnotationDbi::toTable(org.Hs.egALIAS2EG)
to_entrez <- function(names) {
  hit <- symbols$gene_id[symbols$symbol %in% names]
  if (length(hit) == 0) hit <- aliases$gene_id[aliases$alias_symbol %in% names]
  unique(hit)
}
ref <- utils::read.csv(ref_path, colClasses = "character")
lincs <- gsub(".", "-", names(utils::read.csv(cmea_path, nrows = 1, check.names = FALSE))[-1], fixed = TRUE)
lincs <- sub("^X(?=[0-9])", "", lincs, perl = TRUE)
lincs_ids <- lapply(lincs, to_entrez)
probe_ids <- lapply(seq_len(nrow(ref)), function(i)
  unique(c(to_entrez(strsplit(ref$gene[i], "///", fixed = TRUE)[[1]]), to_entrez(ref$symbol[i]))))
out <- data.frame(probe_id = ref$probe_id, paper_gene = ref$gene, symbol = ref$symbol,
                  entrez = ref$entrezgene, lincs_symbol = NA_character_, landmark = FALSE)
for (i in seq_len(nrow(ref))) {
  meets <- which(vapply(lincs_ids, function(ids) any(ids %in% probe_ids[[i]]), logical(1)))
  if (length(meets) != 1) next
  name <- lincs[meets]
  shared <- intersect(lincs_ids[[meets]], probe_ids[[i]])
  if (length(shared) > 1) {
    if (!name %in% names(previous_symbol)) stop("no rule for the ambiguous name ", name)
    shared <- symbols$gene_id[symbols$symbol == previous_symbol[[name]]]
  }
  out$entrez[i] <- shared
  out$symbol[i] <- symbols$symbol[symbols$gene_id == shared]
  out$lincs_symbol[i] <- name
  out$landmark[i] <- TRUE
}
stopifnot(sum(out$landmark) == length(lincs), !anyDuplicated(out$lincs_symbol[out$landmark]))
out <- out[order(out$probe_id), ]
target <- file.path("rosetta_stats", "data", "annotations", "l1000_genes.csv")
utils::write.csv(out, target, row.names = FALSE, na = "")
changed <- sum(out$symbol != ref$symbol[match(out$probe_id, ref$probe_id)])
cat(nrow(out), "probes,", sum(out$landmark), "landmarks;", changed, "symbols differ from the paper's table ->",
    target, "\n")
