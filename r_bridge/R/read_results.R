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
  check_plain_file(dir, "manifest.json", NULL, fun, max_bytes = 64 * 1024^2)
  manifest <- tryCatch(jsonlite::read_json(manifest_path, simplifyVector = FALSE),
                       error = function(e) stop_bridge(fun, manifest_path, " is corrupt: ",
                                                       strsplit(conditionMessage(e), "\n")[[1]][1]))
  check_manifest(manifest, manifest_path, fun)
  listed <- names(manifest$files)
  outside <- listed[!vapply(listed, inside_folder, logical(1))]
  if (length(outside)) {
    stop_bridge(fun, "the manifest names file(s) outside the folder: ", paste(outside, collapse = ", "))
  }
  missing <- listed[!file.exists(file.path(dir, listed)) & !vapply(file.path(dir, listed), is_link, logical(1))]
  if (length(missing)) {
    stop_bridge(fun, "file(s) named in the manifest are missing: ", paste(missing, collapse = ", "))
  }
  for (f in listed) check_plain_file(dir, f, manifest$sizes[[f]], fun)
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
    table <- tryCatch(
      if (!is.null(rds)) readRDS(file.path(dir, rds)) else
        utils::read.csv(file.path(dir, source), check.names = FALSE, stringsAsFactors = FALSE),
      error = function(e) stop_bridge(fun, source, " cannot be read: ", conditionMessage(e)))
    if (!is.data.frame(table) || nrow(table) != entry$rows) {
      stop_bridge(fun, "table '", name, "' has ", NROW(table), " rows; the manifest records ", entry$rows)
    }
    tibble::as_tibble(table, .name_repair = "minimal")
  })
  names(tables) <- names(manifest$tables)
  list(tables = tables, manifest = manifest)
}

# The manifest has the shape rosetta_stats writes: files (name -> sha256), optional sizes, tables with
# a row count and a csv file; anything else is one error naming what is wrong.
check_manifest <- function(manifest, path, fun) {
  bad <- function(...) stop_bridge(fun, path, ": ", ...)
  if (!is.list(manifest) || is.null(names(manifest))) bad("not a JSON object")
  if (!identical(manifest$package, "rosetta_stats")) bad("not written by rosetta_stats")
  files <- manifest$files
  if (!is.list(files) || (length(files) && is.null(names(files)))) bad("'files' must map file names to sha256 digests")
  ok <- vapply(files, function(d) is.character(d) && length(d) == 1 && grepl("^[0-9a-f]{64}$", d), logical(1))
  if (!all(ok)) bad("'files' entry ", names(files)[!ok][1], " is no sha256")
  sizes <- manifest$sizes
  if (!is.null(sizes)) {
    if (!is.list(sizes) || (length(sizes) && is.null(names(sizes)))) bad("'sizes' must map file names to byte counts")
    ok <- vapply(sizes, function(x) is.numeric(x) && length(x) == 1 && x >= 0, logical(1))
    if (!all(ok) || !all(names(sizes) %in% names(files))) bad("malformed 'sizes'")
  }
  tables <- manifest$tables
  if (!is.list(tables) || (length(tables) && is.null(names(tables)))) bad("'tables' must map table names to entries")
  for (name in names(tables)) {
    entry <- tables[[name]]
    if (!is.list(entry) || !is.numeric(entry$rows) || length(entry$rows) != 1 ||
        !is.list(entry$files) || !is.character(entry$files$csv)) {
      bad("table '", name, "' is malformed (no row count or no csv file)")
    }
  }
  invisible(TRUE)
}

# A listed file is read only when it is a regular file reached without symbolic links, of the size the
# manifest records (a FIFO or a device would make the reading hang or never end).
check_plain_file <- function(dir, f, expected_size, fun, max_bytes = Inf) {
  parts <- strsplit(gsub("\\\\", "/", f), "/", fixed = TRUE)[[1]]
  prefix <- dir
  for (part in parts) {
    prefix <- file.path(prefix, part)
    if (is_link(prefix)) {
      stop_bridge(fun, f, " is reached through a symbolic link (", prefix, "); refusing to follow it")
    }
  }
  info <- file.info(file.path(dir, f), extra_cols = FALSE)
  if (is.na(info$size) || isTRUE(info$isdir)) stop_bridge(fun, f, " is not a regular file")
  if (!is.null(expected_size) && info$size != expected_size) {
    stop_bridge(fun, f, " has ", info$size, " bytes; the manifest records ", expected_size)
  }
  if (info$size == 0) stop_bridge(fun, f, " is empty or not a regular file")
  if (info$size > max_bytes) stop_bridge(fun, f, " is larger than ", max_bytes, " bytes")
  invisible(TRUE)
}

# TRUE for a symbolic link (Sys.readlink gives "" for other files and NA when the path does not exist).
is_link <- function(path) {
  target <- Sys.readlink(path)
  !is.na(target) && nzchar(target)
}

# A relative path that stays inside its folder (no absolute path, no "..").
inside_folder <- function(path) {
  parts <- strsplit(gsub("\\\\", "/", path), "/", fixed = TRUE)[[1]]
  nzchar(path) && !startsWith(path, "/") && !startsWith(path, "~") && !any(parts %in% c("..", ""))
}
