#' Aggregate profiles within strata (for example single cells to wells)
#'
#' An argument-checked call of [cytominer::aggregate()]. With a
#' [sqlite_table()] or [postgres_table()] the grouping and summarising run
#' inside the database as one statement built from cytominer's own
#' expressions (translated once, not once per feature), and only the
#' aggregated rows are collected.
#'
#' Missing values follow cytominer: in the database they are skipped; in a
#' data frame `mean` and `median` of a group with a missing value are
#' missing.
#'
#' @param population A data frame, a [sqlite_table()] or a [postgres_table()].
#' @param variables Names of the feature columns to aggregate.
#' @param strata Names of the grouping columns (for example plate and well).
#' @param operation One of `"mean"`, `"median"`, `"min"`, `"max"`, `"sd"`, or
#'   several joined by `"+"` (for example `"mean+sd"`), in which case each
#'   output column is suffixed with the operation.
#' @param count_column When given, a column of that name (after the strata)
#'   holds the number of rows aggregated into each stratum (the cell count of
#'   a well), counted in the database for a table.
#' @return A tibble: the strata columns (and the count), then the aggregated
#'   variables, one row per stratum.
#' @export
#' @examples
#' cells <- data.frame(well = c("A01", "A01", "B01"), x = c(1, 3, 10), y = c(2, 2, 4))
#' aggregate_profiles(cells, variables = c("x", "y"), strata = "well")
#'
#' path <- system.file("extdata", "fixture_intensities_shapes.sqlite",
#'                     package = "cytominer")
#' aggregate_profiles(sqlite_table(path, "view_intensities"),
#'                    variables = c("m_intensities_mean", "m_intensities_maximum"),
#'                    strata = c("g_plate", "g_well"))
aggregate_profiles <- function(population, variables, strata, operation = "mean", count_column = NULL) {
  fun <- "aggregate_profiles"
  allowed <- c("mean", "median", "min", "max", "sd")
  if (!is.character(operation) || length(operation) != 1 || is.na(operation)) {
    stop_bridge(fun, "`operation` must be a single string")
  }
  for (op in strsplit(operation, "+", fixed = TRUE)[[1]]) {
    check_choice(op, allowed, "operation", fun)
  }
  opened <- open_population(population, fun)
  on.exit(opened$close(), add = TRUE)
  if (opened$backend == "postgres" && "median" %in% strsplit(operation, "+", fixed = TRUE)[[1]]) {
    stop_bridge(fun, "operation 'median' is not available in PostgreSQL through cytominer; ",
                "use 'mean', or aggregate from SQLite or a data frame")
  }
  check_not_empty(opened$tbl, fun)
  check_columns(opened$tbl, variables, "variables", fun)
  check_columns(opened$tbl, strata, "strata", fun)
  check_numeric(opened$tbl, variables, fun)
  operations <- strsplit(operation, "+", fixed = TRUE)[[1]]
  if (!is.null(count_column) && (!is.character(count_column) || length(count_column) != 1 ||
                                  count_column %in% c(strata, variables))) {
    stop_bridge(fun, "`count_column` must be one new column name")
  }
  if (opened$in_database) {  # one statement with cytominer's expressions (see aggregate_in_database.R)
    result <- aggregate_in_database(opened$tbl, variables, strata, operations, count_column)
    return(dplyr::arrange(result, !!!rlang::syms(strata)))
  }
  population <- to_placeholders(opened$tbl, variables, fun)
  result <- with_quiet_logger(
    cytominer::aggregate(population = population, variables = placeholder_names(variables),
                         strata = strata, operation = operation)
  )
  result <- dplyr::ungroup(dplyr::collect(result))
  if (length(operations) == 1) operations <- character(0)
  colnames(result) <- from_placeholders(colnames(result), variables, operations)
  if (!is.null(count_column)) {
    counts <- dplyr::count(dplyr::ungroup(opened$tbl), !!!rlang::syms(strata), name = count_column)
    result <- dplyr::left_join(result, dplyr::collect(counts), by = strata)
    result <- dplyr::relocate(result, dplyr::all_of(count_column), .after = dplyr::all_of(strata[length(strata)]))
  }
  result
}
