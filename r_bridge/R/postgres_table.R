#' A table in a PostgreSQL database, to be processed in the server
#'
#' Describes a table that `aggregate_profiles()`, `normalize_profiles()` and
#' `select_variables()` read through DBI, dbplyr and RPostgres, so that the
#' grouping and summarising run in the server and only results come back.
#' The connection is checked when the object is made.
#'
#' @param table Name of a table (or view); with `query`, a label.
#' @param dbname,host,port,user,password Connection parameters.
#' @param query Optional SQL `SELECT` whose rows are the population (run in the server).
#' @return An object of class `rosetta_postgres_table`.
#' @export
#' @examples
#' \dontrun{
#' cells <- postgres_table("single_cells", dbname = "profiling", host = "127.0.0.1")
#' aggregate_profiles(cells, "Cells_AreaShape_Area", c("Metadata_Plate", "Metadata_Well"))
#' }
postgres_table <- function(table, dbname = "postgres", host = "127.0.0.1", port = 5432L,
                           user = NULL, password = NULL, query = NULL) {
  fun <- "postgres_table"
  if (!requireNamespace("RPostgres", quietly = TRUE)) {
    stop_bridge(fun, "the R package RPostgres is not installed (run `make setup`)")
  }
  if (!is.character(table) || length(table) != 1 || is.na(table)) {
    stop_bridge(fun, "`table` must be a single table name")
  }
  spec <- structure(list(table = table, dbname = dbname, host = host, port = as.integer(port),
                         user = user, password = password, query = query),
                    class = "rosetta_postgres_table")
  con <- connect_postgres(spec, fun)
  on.exit(DBI::dbDisconnect(con), add = TRUE)
  if (!is.null(query)) {
    tryCatch(DBI::dbGetQuery(con, paste0("SELECT * FROM (", query, ") AS q LIMIT 0")),
             error = function(e) stop_bridge(fun, "the query does not run: ", conditionMessage(e)))
  } else if (!DBI::dbExistsTable(con, table)) {
    stop_bridge(fun, "table '", table, "' not found in database '", dbname, "' on ", host, ":", port)
  }
  spec
}

#' @export
print.rosetta_postgres_table <- function(x, ...) {
  cat("<postgres table '", x$table, "' in ", x$dbname, " on ", x$host, ":", x$port, ">\n", sep = "")
  invisible(x)
}

connect_postgres <- function(spec, fun) {
  args <- list(RPostgres::Postgres(), dbname = spec$dbname, host = spec$host, port = spec$port)
  if (!is.null(spec$user)) args$user <- spec$user
  if (!is.null(spec$password)) args$password <- spec$password
  tryCatch(do.call(DBI::dbConnect, args), error = function(e) {
    stop_bridge(fun, "cannot connect to PostgreSQL at ", spec$host, ":", spec$port, "/", spec$dbname,
                ": ", conditionMessage(e))
  })
}
