#' Call a rosetta_stats function from R
#'
#' The one generic wrapper behind every statistic of this package: the
#' arguments are converted (data frames and tibbles cross in parts, with
#' their column names kept exactly; `NULL` leaves a Python default in
#' place), the Python function runs, and its result comes back as a
#' `rosetta_result` (`$table`, `$tables`, `$settings`, `$estimates`,
#' `$notes`, with `print()` and `summary()`), a tibble, or a
#' `rosetta_object` (Profiles and PairedProfiles, which R passes on to
#' the next call unchanged; `$table` holds their data).
#'
#' @param name The Python function, e.g. `"replicate_reproducibility"`.
#' @param ... Its arguments, named as in Python.
#' @return A `rosetta_result`, a tibble or a `rosetta_object`.
#' @export
#' @examples
#' if (requireNamespace("reticulate", quietly = TRUE) && length(rosettabridge:::python_candidates()) &&
#'     !inherits(try(rosetta_python(), silent = TRUE), "try-error")) {
#'   wells <- data.frame(pert = rep(c("a", "b", "c", "d"), each = 3),
#'                       Cells_x = c(1, 1.1, 0.9, 5, 5.2, 4.9, 3, 2.8, 3.1, 7, 7.2, 6.8),
#'                       Cells_y = c(2, 2.1, 1.9, 0, 0.2, 0.1, 4, 4.2, 3.9, 1, 0.9, 1.2))
#'   rosetta_call("replicate_reproducibility", profiles_or_frame = wells, perturbation = "pert",
#'                n_null = 200, seed = 0)
#' }
rosetta_call <- function(name, ...) {
  front <- rosetta_python()
  arguments <- list(...)
  arguments <- arguments[!vapply(arguments, is.null, logical(1))]
  given <- names(arguments)
  if (is.null(given)) given <- rep("", length(arguments))
  positional <- lapply(unname(arguments[!nzchar(given)]), to_python_argument)  # in order, as in Python
  named <- lapply(arguments[nzchar(given)], to_python_argument)
  out <- tryCatch(front$call(name, reticulate::r_to_py(named), reticulate::r_to_py(positional)),
                  error = function(e) {
    message <- conditionMessage(e)
    last <- utils::tail(strsplit(trimws(message), "\n")[[1]], 1)
    stop_bridge(name, sub("^[A-Za-z]*(Error|Exception)[^:]*: ", "", last))
  })
  from_python(out)
}

from_python <- function(out) {
  value <- reticulate::py_to_r(out)
  kind <- value$kind
  if (identical(kind, "result")) {
    tables <- lapply(value$tables, parts_to_tibble)
    return(structure(list(table = parts_to_tibble(value$table), tables = tables,
                          settings = jsonlite::fromJSON(value$settings, simplifyVector = TRUE),
                          estimates = jsonlite::fromJSON(value$estimates, simplifyVector = TRUE),
                          notes = as.character(unlist(value$notes)), title = value$title,
                          summary_text = value$summary, python_class = value$class,
                          object = out["object"]),  # the Python result, for calls that take one
                     class = "rosetta_result"))
  }
  if (identical(kind, "frame")) return(parts_to_tibble(value$table))
  if (identical(kind, "object")) {
    return(structure(list(object = out["object"], table = parts_to_tibble(value$table),
                          summary_text = value$summary, python_class = value$class),
                     class = "rosetta_object"))
  }
  jsonlite::fromJSON(value$json, simplifyVector = TRUE)
}

#' @export
print.rosetta_result <- function(x, ...) {
  cat(x$summary_text, "\n", sep = "")
  invisible(x)
}

#' @export
summary.rosetta_result <- function(object, ...) {
  structure(list(title = object$title, settings = object$settings, estimates = object$estimates,
                 notes = object$notes, n_rows = nrow(object$table)), class = "summary.rosetta_result")
}

#' @export
print.summary.rosetta_result <- function(x, ...) {
  cat(x$title, "\n", sep = "")
  cat(x$n_rows, " rows\n", sep = "")
  utils::str(list(settings = x$settings, estimates = x$estimates), max.level = 2, give.attr = FALSE)
  if (length(x$notes)) cat(paste0("- ", x$notes, collapse = "\n"), "\n", sep = "")
  invisible(x)
}

#' @export
print.rosetta_object <- function(x, ...) {
  cat(x$python_class, "\n", x$summary_text, "\n", sep = "")
  invisible(x)
}

#' @export
as.data.frame.rosetta_result <- function(x, ...) as.data.frame(x$table, ...)

#' The statistics of rosetta_stats, from R
#'
#' Each function calls the Python function of the same name with the same
#' arguments (see its documentation in Python, `help(rosetta_stats.<name>)`),
#' through [rosetta_call()]. Data frames and tibbles go in; a
#' `rosetta_result` comes out (`$table` a tibble, `$settings`, `$estimates`,
#' `$notes`; `print()` shows the summary Python renders). Loaders return a
#' `rosetta_object` to pass on to the next call.
#'
#' @param ... Arguments as in Python: `profiles_or_frame` (a data frame or a
#'   `rosetta_object`), `perturbation`, `features`, `controls` (a named list,
#'   e.g. `list(Metadata_pert_type = "negcon")`), `n_null`, `seed`, ...;
#'   paired statistics take `cp`, `ge` and `key`.
#' @return A `rosetta_result` (or a `rosetta_object` for the loaders).
#' @name statistics
#' @examples
#' if (requireNamespace("reticulate", quietly = TRUE) && length(rosettabridge:::python_candidates()) &&
#'     !inherits(try(rosetta_python(), silent = TRUE), "try-error")) {
#'   set.seed(1)
#'   wells <- data.frame(pert = rep(sprintf("p%02d", 1:20), each = 3),
#'                       kind = "trt", stringsAsFactors = FALSE)
#'   signal <- matrix(rnorm(20 * 5), 20)[rep(1:20, each = 3), ]
#'   wells <- cbind(wells, setNames(as.data.frame(signal + matrix(rnorm(60 * 5, sd = 0.5), 60)),
#'                                  paste0("Cells_f", 1:5)))
#'   replicate_reproducibility(wells, perturbation = "pert", n_null = 200, seed = 0)$table
#' }
NULL

statistic <- function(name) {
  force(name)
  function(...) rosetta_call(name, ...)
}

#' @rdname statistics
#' @export
replicate_reproducibility <- statistic("replicate_reproducibility")
#' @rdname statistics
#' @export
mean_average_precision <- statistic("mean_average_precision")
#' @rdname statistics
#' @export
phenotypic_activity <- statistic("phenotypic_activity")
#' @rdname statistics
#' @export
phenotypic_consistency <- statistic("phenotypic_consistency")
#' @rdname statistics
#' @export
cross_modal_retrieval <- statistic("cross_modal_retrieval")
#' @rdname statistics
#' @export
reproducible_sets <- statistic("reproducible_sets")
#' @rdname statistics
#' @export
gene_predictability <- statistic("gene_predictability")
#' @rdname statistics
#' @export
feature_predictability <- statistic("feature_predictability")
#' @rdname statistics
#' @export
feature_gene_correlation <- statistic("feature_gene_correlation")
#' @rdname statistics
#' @export
canonical_correlation <- statistic("canonical_correlation")
#' @rdname statistics
#' @export
similarity_concordance <- statistic("similarity_concordance")
#' @rdname statistics
#' @export
moa_prediction <- statistic("moa_prediction")
#' @rdname statistics
#' @export
load_profiles <- statistic("load_profiles")
#' @rdname statistics
#' @export
load_paired <- statistic("load_paired")
#' @rdname statistics
#' @export
read_profiles <- statistic("read_profiles")
#' @rdname statistics
#' @export
pair <- statistic("pair")
#' @rdname statistics
#' @export
treatment_level <- statistic("treatment_level")
#' @rdname statistics
#' @export
transfer_predictability <- statistic("transfer_predictability")
#' @rdname statistics
#' @export
effect_sizes <- statistic("effect_sizes")
#' @rdname statistics
#' @export
stable_links <- statistic("stable_links")
#' @rdname statistics
#' @export
go_enrichment <- statistic("go_enrichment")
#' @rdname statistics
#' @export
moa_clustering <- statistic("moa_clustering")
