#' Read a results folder written by the Python package rosetta_stats
#'
#' Every table of the folder is read from its RDS file (with the column types
#' Python recorded) and returned as a tibble, with the parsed manifest. The
#' folder is validated first: every file the manifest names must exist, and
#' every table must have the row count the manifest records.
#'
#' @param dir The folder (for example the output of `rosetta-stats report`).
#' @return A list with `tables` (a named list of tibbles) and `manifest` (a
#'   list: package version, creation time, inputs, and for each table its
#'   rows, columns and the parameters that produced it).
#' @export
#' @examples
#' dir <- file.path(tempdir(), "rosetta-example")
#' dir.create(dir, showWarnings = FALSE)
#' saveRDS(data.frame(gene = c("200814_at", "201000_at"), r2 = c(0.4, 0.1),
#'                    check.names = FALSE), file.path(dir, "genes.rds"))
#' write.csv(data.frame(gene = c("200814_at", "201000_at"), r2 = c(0.4, 0.1)),
#'           file.path(dir, "genes.csv"), row.names = FALSE)
#' jsonlite::write_json(list(version = "0.1.0", files = list(genes.csv = "", genes.rds = ""),
#'                           tables = list(genes = list(rows = 2L,
#'                             files = list(csv = "genes.csv", rds = "genes.rds")))),
#'                      file.path(dir, "manifest.json"), auto_unbox = TRUE)
#' read_results(dir)$tables$genes
read_results <- function(dir) {
  fun <- "read_results"
  if (!is.character(dir) || length(dir) != 1 || !dir.exists(dir)) {
    stop_bridge(fun, "results folder not found: ", dir)
  }
  manifest_path <- file.path(dir, "manifest.json")
  if (!file.exists(manifest_path)) {
    stop_bridge(fun, "no manifest.json in ", dir, "; is it a rosetta_stats results folder?")
  }
  manifest <- jsonlite::read_json(manifest_path, simplifyVector = FALSE)
  listed <- names(manifest$files)
  missing <- listed[!file.exists(file.path(dir, listed))]
  if (length(missing)) {
    stop_bridge(fun, "file(s) named in the manifest are missing: ", paste(missing, collapse = ", "))
  }
  tables <- lapply(names(manifest$tables), function(name) {
    entry <- manifest$tables[[name]]
    rds <- entry$files$rds
    table <- if (!is.null(rds)) readRDS(file.path(dir, rds)) else
      utils::read.csv(file.path(dir, entry$files$csv), check.names = FALSE, stringsAsFactors = FALSE)
    if (nrow(table) != entry$rows) {
      stop_bridge(fun, "table '", name, "' has ", nrow(table), " rows; the manifest records ", entry$rows)
    }
    tibble::as_tibble(table, .name_repair = "minimal")
  })
  names(tables) <- names(manifest$tables)
  list(tables = tables, manifest = manifest)
}
