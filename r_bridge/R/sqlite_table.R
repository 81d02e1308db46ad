#' A table in a SQLite file, to be processed in the database
#'
#' Describes a table that `aggregate_profiles()`, `normalize_profiles()` and
#' `select_variables()` read through DBI, dbplyr and RSQLite, so that only the
#' result is brought into memory. The file is opened read-only.
#'
#' @param path Path to an existing SQLite file.
#' @param table Name of a table (or view) in that file; with `query`, a label.
#' @param query Optional SQL `SELECT` whose rows are the population (for
#'   example the join of a CellProfiler `Image` table with its compartment
#'   tables); it runs inside the database like a view.
#' @return An object of class `rosetta_sqlite_table`.
#' @export
#' @examples
#' path <- system.file("extdata", "fixture_intensities_shapes.sqlite",
#'                     package = "cytominer")
#' sqlite_table(path, "view_intensities")
sqlite_table <- function(path, table, query = NULL) {
  fun <- "sqlite_table"
  if (!is.character(path) || length(path) != 1 || is.na(path)) {
    stop_bridge(fun, "`path` must be a single file path")
  }
  if (!is.character(table) || length(table) != 1 || is.na(table)) {
    stop_bridge(fun, "`table` must be a single table name")
  }
  if (!file.exists(path)) {
    stop_bridge(fun, "SQLite file not found: ", path)
  }
  con <- DBI::dbConnect(RSQLite::SQLite(), path, flags = RSQLite::SQLITE_RO)
  on.exit(DBI::dbDisconnect(con), add = TRUE)
  tables <- tryCatch(DBI::dbListTables(con), error = function(e) {
    stop_bridge(fun, "cannot read ", path, " as SQLite: ", conditionMessage(e))
  })
  if (!is.null(query)) {
    if (!is.character(query) || length(query) != 1 || !grepl("^\\s*select", query, ignore.case = TRUE)) {
      stop_bridge(fun, "`query` must be a single SQL SELECT statement")
    }
    tryCatch(DBI::dbGetQuery(con, paste0("SELECT * FROM (", query, ") AS q LIMIT 0")),
             error = function(e) stop_bridge(fun, "the query does not run in ", path, ": ", conditionMessage(e)))
  } else if (!(table %in% tables)) {
    stop_bridge(fun, "table '", table, "' not found in ", path,
                "; tables: ", paste(tables, collapse = ", "))
  }
  structure(list(path = normalizePath(path), table = table, query = query),
            class = "rosetta_sqlite_table")
}

#' @export
print.rosetta_sqlite_table <- function(x, ...) {
  cat("<sqlite table '", x$table, "' in ", x$path, ">\n", sep = "")
  invisible(x)
}

# Open `population` for reading: a data frame is returned as is; a
# sqlite_table() is opened (read-only, with RSQLite's math and aggregate
# extensions for MEDIAN and STDEV) and `close()` must be called when done.
open_population <- function(population, fun) {
  if (is.data.frame(population)) {
    return(list(tbl = population, close = function() invisible(NULL), in_database = FALSE,
                backend = "memory"))
  }
  if (inherits(population, "rosetta_postgres_table")) {
    con <- connect_postgres(population, fun)
    source <- if (!is.null(population$query)) dplyr::sql(population$query) else population$table
    return(list(tbl = dplyr::tbl(con, source),
                close = function() DBI::dbDisconnect(con),
                in_database = TRUE, backend = "postgres"))
  }
  if (!inherits(population, "rosetta_sqlite_table")) {
    stop_bridge(fun, "`population` must be a data frame, a sqlite_table() or a postgres_table()")
  }
  if (!file.exists(population$path)) {
    stop_bridge(fun, "SQLite file not found: ", population$path)
  }
  con <- DBI::dbConnect(RSQLite::SQLite(), population$path, flags = RSQLite::SQLITE_RO)
  RSQLite::initExtension(con)
  if (!is.null(population$query)) {
    return(list(tbl = dplyr::tbl(con, dplyr::sql(population$query)),
                close = function() DBI::dbDisconnect(con), in_database = TRUE, backend = "sqlite"))
  }
  if (!(population$table %in% DBI::dbListTables(con))) {
    DBI::dbDisconnect(con)
    stop_bridge(fun, "table '", population$table, "' not found in ", population$path)
  }
  list(tbl = dplyr::tbl(con, population$table),
       close = function() DBI::dbDisconnect(con),
       in_database = TRUE, backend = "sqlite")
}
