#' Select feature columns
#'
#' An argument-checked call of [cytominer::variable_select()]. The dropped
#' variables and the reason are returned in the attribute `"dropped"`.
#'
#' @inheritParams aggregate_profiles
#' @param sample Rows used to judge the variables (a data frame, or a named
#'   list of column values as in [normalize_profiles()]); `NULL` uses all of
#'   `population`. Not used by `"drop_na_columns"`.
#' @param operation `"variance_threshold"` (near-zero variance),
#'   `"correlation_threshold"` (one of each highly correlated pair) or
#'   `"drop_na_columns"` (too many missing values).
#' @param ... Passed to the cytominer operation, for example `cutoff` for
#'   `"correlation_threshold"` (default 0.9) and `"drop_na_columns"`
#'   (default 0.05), `method` for `"correlation_threshold"`.
#' @return A tibble: `population` without the excluded variables (collected
#'   into memory when `population` is a database table), with the attribute
#'   `"dropped"` (variable, reason).
#' @export
#' @examples
#' wells <- data.frame(well = c("A", "B", "C", "D"), x = c(1, 2, 3, 4),
#'                     y = c(2, 4, 6, 8.1), z = c(5, 5, 5, 5))
#' select_variables(wells, c("x", "y", "z"), operation = "variance_threshold")
#' select_variables(wells, c("x", "y"), operation = "correlation_threshold")
select_variables <- function(population, variables, sample = NULL,
                             operation = "variance_threshold", ...) {
  fun <- "select_variables"
  check_choice(operation, c("variance_threshold", "correlation_threshold", "drop_na_columns"),
               "operation", fun)
  opened <- open_population(population, fun)
  on.exit(opened$close(), add = TRUE)
  population <- opened$tbl
  check_not_empty(population, fun)
  check_columns(population, variables, "variables", fun)
  check_numeric(population, variables, fun)
  sample <- if (is.null(sample)) population else control_rows(population, sample, fun)
  sample <- dplyr::collect(dplyr::select(sample, dplyr::all_of(variables)))
  if (operation == "correlation_threshold") {
    spread <- vapply(variables, function(v) stats::sd(sample[[v]], na.rm = TRUE), double(1))
    flat <- variables[is.na(spread) | spread == 0]
    if (length(flat)) {
      stop_bridge(fun, "correlation_threshold needs variables that vary; constant or missing: ",
                  paste(flat, collapse = ", "), " (run variance_threshold first)")
    }
  }
  result <- with_quiet_logger(
    cytominer::variable_select(population = to_placeholders(population, variables, fun),
                               variables = placeholder_names(variables),
                               sample = to_placeholders(sample, variables, fun),
                               operation = operation, ...)
  )
  result <- dplyr::ungroup(dplyr::collect(result))
  colnames(result) <- from_placeholders(colnames(result), variables)
  excluded <- setdiff(variables, colnames(result))
  attr(result, "dropped") <- data.frame(variable = excluded,
                                        reason = rep(operation, length(excluded)))
  result
}
