# Internal argument checks shared by every exported function.

# Stop with a message that starts with the calling function's name.
stop_bridge <- function(fun, ...) {
  stop(paste0(fun, "(): ", ...), call. = FALSE)
}

# Check that `value` is one of `allowed`; the message lists the allowed values.
check_choice <- function(value, allowed, argument, fun) {
  if (!is.character(value) || length(value) != 1 || is.na(value) ||
      !(value %in% allowed)) {
    shown <- if (is.character(value) && length(value) == 1) value else deparse(value)
    stop_bridge(fun, "unknown ", argument, " '", shown, "'; choose one of: ",
                paste(allowed, collapse = ", "))
  }
  value
}

# Check that every name in `wanted` is a column of `population`.
check_columns <- function(population, wanted, argument, fun) {
  if (!is.character(wanted) || length(wanted) == 0 || anyNA(wanted)) {
    stop_bridge(fun, "`", argument, "` must be a non-empty character vector of column names")
  }
  missing <- setdiff(wanted, colnames(population))
  if (length(missing)) {
    stop_bridge(fun, "column(s) named in `", argument, "` not found: ",
                paste(missing, collapse = ", "))
  }
  invisible(wanted)
}

# Check that the `variables` columns are numeric (on a few rows for a database table).
check_numeric <- function(population, variables, fun) {
  head_rows <- if (is.data.frame(population)) population else first_rows(population, 100)
  numeric <- vapply(variables, function(v) is.numeric(head_rows[[v]]) ||
                      all(is.na(head_rows[[v]])), logical(1))
  if (!all(numeric)) {
    stop_bridge(fun, "non-numeric feature column(s): ",
                paste(variables[!numeric], collapse = ", "))
  }
  invisible(variables)
}

# Check that a data frame population has rows.
check_not_empty <- function(population, fun) {
  if (is.data.frame(population) && nrow(population) == 0) {
    stop_bridge(fun, "`population` has no rows")
  }
  invisible(population)
}

# Run `code` with cytominer's futile.logger messages below WARN silenced,
# restoring the previous threshold afterwards.
with_quiet_logger <- function(code) {
  old <- futile.logger::flog.threshold()
  futile.logger::flog.threshold(futile.logger::WARN)
  on.exit(futile.logger::flog.threshold(old), add = TRUE)
  force(code)
}

# cytominer's database path breaks on names such as "200814_at" (L1000
# probes). Every wrapper therefore works on placeholder names and puts the
# caller's names back on the result.
placeholder_names <- function(variables) paste0("rosetta_v", seq_along(variables))

# Rename `variables` of a data frame or lazy table to placeholders.
to_placeholders <- function(population, variables, fun) {
  safe <- placeholder_names(variables)
  clash <- intersect(safe, colnames(population))
  if (length(clash)) {
    stop_bridge(fun, "column name(s) reserved by rosettabridge: ", paste(clash, collapse = ", "))
  }
  dplyr::rename(population, !!!rlang::set_names(rlang::syms(variables), safe))
}

# Map placeholder names in `names` back to `variables`, including names that
# cytominer suffixed with an operation ("rosetta_v1_mean"), or named by the
# operation alone when a single variable had several operations.
from_placeholders <- function(names, variables, operations = character(0)) {
  safe <- placeholder_names(variables)
  lookup <- rlang::set_names(variables, safe)
  for (op in operations) {
    lookup[paste0(safe, "_", op)] <- paste0(variables, "_", op)
    if (length(variables) == 1) lookup[op] <- paste0(variables, "_", op)
  }
  hit <- names %in% names(lookup)
  names[hit] <- unname(lookup[names[hit]])
  names
}

# The first `n` rows of a lazy table through one plain query (dbplyr's select()
# of many columns costs seconds at CellProfiler width).
first_rows <- function(population, n) {
  con <- dbplyr::remote_con(population)
  source <- as.character(dbplyr::sql_render(population))
  DBI::dbGetQuery(con, paste0("SELECT * FROM (", source, ") AS rosetta_population LIMIT ", as.integer(n)))
}
