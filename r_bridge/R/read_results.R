#' Read a results folder written by the Python package rosetta_stats
#'
#' Every table of the folder is read from its RDS file (with the column types
#' Python recorded) and returned as a tibble, with the parsed manifest. The
#' folder is verified first: every file the manifest names must lie inside
#' the folder, exist, and have the sha256 the manifest records; every table
#' must come from a file the manifest lists and have the recorded row count.
#'
#' @param dir The folder (for example the output of `rosetta-stats report`).
#' @param verify Check every file's sha256 (default `TRUE`).
#' @return A list with `tables` (a named list of tibbles) and `manifest` (a
#'   list: package version, creation time, inputs, and for each table its
#'   rows, columns, notes and the parameters that produced it).
#' @export
#' @examples
#' dir <- file.path(tempdir(), "rosetta-example")
#' dir.create(dir, showWarnings = FALSE)
#' genes <- data.frame(gene = c("200814_at", "201000_at"), r2 = c(0.4, 0.1), check.names = FALSE)
#' saveRDS(genes, file.path(dir, "genes.rds"))
#' write.csv(genes, file.path(dir, "genes.csv"), row.names = FALSE)
#' sha <- function(f) digest::digest(file = file.path(dir, f), algo = "sha256")
#' jsonlite::write_json(list(package = "rosetta_stats", version = "0.1.0",
#'                           files = list(genes.csv = sha("genes.csv"), genes.rds = sha("genes.rds")),
#'                           tables = list(genes = list(rows = 2L,
#'                             files = list(csv = "genes.csv", rds = "genes.rds")))),
#'                      file.path(dir, "manifest.json"), auto_unbox = TRUE)
#' read_results(dir)$tables$genes
read_results <- function(dir, verify = TRUE) {
  fun <- "read_results"
  if (!is.character(dir) || length(dir) != 1 || !dir.exists(dir)) {
    stop_bridge(fun, "results folder not found: ", dir)
  }
  manifest_path <- file.path(dir, "manifest.json")
  if (!file.exists(manifest_path)) {
    stop_bridge(fun, "no manifest.json in ", dir, "; is it a rosetta_stats results folder?")
  }
  manifest <- tryCatch(jsonlite::read_json(manifest_path, simplifyVector = FALSE),
                       error = function(e) stop_bridge(fun, manifest_path, " is corrupt: ", conditionMessage(e)))
  if (!is.list(manifest$files) || !is.list(manifest$tables)) {
    stop_bridge(fun, manifest_path, " is not a rosetta_stats manifest (no files or tables)")
  }
  listed <- names(manifest$files)
  outside <- listed[!vapply(listed, inside_folder, logical(1))]
  if (length(outside)) {
    stop_bridge(fun, "the manifest names file(s) outside the folder: ", paste(outside, collapse = ", "))
  }
  missing <- listed[!file.exists(file.path(dir, listed))]
  if (length(missing)) {
    stop_bridge(fun, "file(s) named in the manifest are missing: ", paste(missing, collapse = ", "))
  }
  if (isTRUE(verify)) {
    actual <- vapply(listed, function(f) digest::digest(file = file.path(dir, f), algo = "sha256"), character(1))
    changed <- listed[actual != unlist(manifest$files[listed])]
    if (length(changed)) {
      stop_bridge(fun, "file(s) do not match their sha256 in the manifest (changed after writing?): ",
                  paste(changed, collapse = ", "))
    }
  }
  tables <- lapply(names(manifest$tables), function(name) {
    entry <- manifest$tables[[name]]
    rds <- entry$files$rds
    source <- if (!is.null(rds)) rds else entry$files$csv
    if (is.null(source) || !(source %in% listed)) {
      stop_bridge(fun, "table '", name, "' points to a file the manifest does not list")
    }
    table <- if (!is.null(rds)) readRDS(file.path(dir, rds)) else
      utils::read.csv(file.path(dir, source), check.names = FALSE, stringsAsFactors = FALSE)
    if (nrow(table) != entry$rows) {
      stop_bridge(fun, "table '", name, "' has ", nrow(table), " rows; the manifest records ", entry$rows)
    }
    tibble::as_tibble(table, .name_repair = "minimal")
  })
  names(tables) <- names(manifest$tables)
  list(tables = tables, manifest = manifest)
}

# A relative path that stays inside its folder (no absolute path, no "..").
inside_folder <- function(path) {
  parts <- strsplit(gsub("\\\\", "/", path), "/", fixed = TRUE)[[1]]
  nzchar(path) && !startsWith(path, "/") && !startsWith(path, "~") && !any(parts %in% c("..", ""))
}
