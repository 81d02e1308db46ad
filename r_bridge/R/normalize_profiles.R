#' Normalise profiles to control rows, stratum by stratum
#'
#' An argument-checked call of [cytominer::normalize()] with three guards
#' that cytominer lacks:
#' * features whose dispersion (sd or mad) among the control rows of some
#'   stratum is missing or at most `min_dispersion` would be divided by
#'   (almost) zero; they are dropped with a warning (or cause an error, or
#'   are kept, see `on_low_dispersion`);
#' * strata with no control rows would silently vanish from cytominer's
#'   result; they cause an error naming them (or are dropped with a warning);
#' * the location and dispersion used for every stratum and feature are
#'   returned in the attribute `"parameters"`, the dropped features with the
#'   reason in the attribute `"dropped"`.
#'
#' @inheritParams aggregate_profiles
#' @param strata Names of the columns that define the normalisation groups
#'   (usually the plate).
#' @param sample The control rows: a data frame (a subset of `population`)
#'   or a named list such as `list(Metadata_pert_type = "negcon")` selecting
#'   the rows of `population` whose columns take one of the given values.
#'   With a [sqlite_table()] it must be a named list.
#' @param operation `"standardize"` (mean and sd) or `"robustize"` (median
#'   and mad).
#' @param min_dispersion Dispersions at or below this value count as zero.
#' @param on_low_dispersion `"drop"`, `"error"` or `"keep"`.
#' @param on_missing_controls `"error"` or `"drop"` for strata without
#'   control rows.
#' @return A tibble with every column of `population`, the `variables`
#'   normalised, and the attributes `"parameters"` (strata, variable,
#'   location, dispersion) and `"dropped"` (variable, reason).
#' @export
#' @examples
#' wells <- data.frame(plate = rep(c("P1", "P2"), each = 4),
#'                     type = rep(c("negcon", "negcon", "trt", "trt"), 2),
#'                     x = c(1, 3, 5, 7, 10, 14, 20, 30))
#' normalize_profiles(wells, "x", "plate", list(type = "negcon"))
normalize_profiles <- function(population, variables, strata, sample,
                               operation = "standardize", min_dispersion = 1e-8,
                               on_low_dispersion = "drop",
                               on_missing_controls = "error") {
  fun <- "normalize_profiles"
  check_choice(operation, c("standardize", "robustize"), "operation", fun)
  check_choice(on_low_dispersion, c("drop", "error", "keep"), "on_low_dispersion", fun)
  check_choice(on_missing_controls, c("error", "drop"), "on_missing_controls", fun)
  opened <- open_population(population, fun)
  on.exit(opened$close(), add = TRUE)
  population <- opened$tbl
  check_not_empty(population, fun)
  check_columns(population, variables, "variables", fun)
  check_columns(population, strata, "strata", fun)
  check_numeric(population, variables, fun)
  sample <- control_rows(population, sample, fun)
  check_columns(sample, c(strata, variables), "sample columns", fun)

  strata_values <- function(x) {
    dplyr::collect(dplyr::distinct(dplyr::select(x, dplyr::all_of(strata))))
  }
  uncontrolled <- dplyr::anti_join(strata_values(population), strata_values(sample), by = strata)
  if (nrow(uncontrolled) > 0) {
    named <- paste(apply(uncontrolled, 1, function(row)
      paste0(strata, "=", trimws(row), collapse = "/")), collapse = ", ")
    if (on_missing_controls == "error") {
      stop_bridge(fun, "no control rows in ", nrow(uncontrolled), " stratum/strata: ", named,
                  "; cytominer would drop them silently (use on_missing_controls = \"drop\")")
    }
    warning(fun, "(): dropping ", nrow(uncontrolled), " stratum/strata without control rows: ",
            named, call. = FALSE)
  }

  parameters <- if (opened$in_database && operation == "standardize") {
    database_parameters(sample, variables, strata)
  } else if (opened$in_database) {
    control_parameters(to_placeholders(sample, variables, fun), variables, strata, operation)
  } else {
    frame_parameters(sample, variables, strata, operation)
  }
  low <- is.na(parameters$dispersion) | parameters$dispersion <= min_dispersion
  low_variables <- unique(parameters$variable[low])
  dropped <- data.frame(variable = character(0), reason = character(0))
  if (length(low_variables) > 0) {
    message_text <- paste0(length(low_variables), " feature(s) with control dispersion <= ",
                           format(min_dispersion), " (or undefined) in some stratum: ",
                           paste(low_variables, collapse = ", "))
    if (on_low_dispersion == "error") stop_bridge(fun, message_text)
    if (on_low_dispersion == "drop") {
      warning(fun, "(): dropping ", message_text, call. = FALSE)
      dropped <- data.frame(variable = low_variables,
                            reason = paste0("control dispersion <= ", format(min_dispersion)))
      variables <- setdiff(variables, low_variables)
      if (length(variables) == 0) stop_bridge(fun, "no feature left to normalise")
    }
  }

  if (opened$in_database) {  # one statement (see aggregate_in_database.R)
    population <- dplyr::select(population, -dplyr::all_of(dropped$variable))
    result <- normalize_in_database(population, variables, strata,
                                    parameters[parameters$variable %in% variables, ])
    attr(result, "parameters") <- parameters
    attr(result, "dropped") <- dropped
    return(result)
  }
  population <- dplyr::select(population, -dplyr::all_of(dropped$variable))
  result <- normalize_frame(population, variables, strata, parameters[parameters$variable %in% variables, ])
  attr(result, "parameters") <- parameters
  attr(result, "dropped") <- dropped
  result
}

# The key of each row's stratum (one string; strata values joined by a separator no value holds).
stratum_key <- function(frame, strata) {
  parts <- lapply(strata, function(s) ifelse(is.na(frame[[s]]), "\001NA", as.character(frame[[s]])))
  do.call(paste, c(parts, sep = "\037"))
}

# Location and dispersion of every variable in every stratum of an in-memory
# sample: the functions cytominer::normalize() applies (mean and sd, or median
# and mad), a column at a time on each stratum's rows (no per-variable
# round trip through dplyr).
frame_parameters <- function(sample, variables, strata, operation) {
  sample <- as.data.frame(sample, check.names = FALSE)
  key <- stratum_key(sample, strata)
  levels <- unique(key)
  values <- as.matrix(sample[, variables, drop = FALSE])
  storage.mode(values) <- "double"
  loc <- disp <- matrix(NA_real_, length(levels), length(variables))
  for (i in seq_along(levels)) {
    block <- values[key == levels[i], , drop = FALSE]
    if (operation == "robustize") {
      loc[i, ] <- apply(block, 2, stats::median, na.rm = TRUE)
      disp[i, ] <- apply(block, 2, stats::mad, na.rm = TRUE)
    } else {
      loc[i, ] <- colMeans(block, na.rm = TRUE)
      disp[i, ] <- apply(block, 2, stats::sd, na.rm = TRUE)
    }
  }
  first <- sample[match(levels, key), strata, drop = FALSE]
  out <- first[rep(seq_along(levels), times = length(variables)), , drop = FALSE]
  out$variable <- rep(variables, each = length(levels))
  out$location <- as.vector(loc)
  out$dispersion <- as.vector(disp)
  rownames(out) <- NULL
  tibble::as_tibble(out)
}

# (x - location) / dispersion for every variable of an in-memory population, with the parameters of its
# row's stratum; rows of strata without parameters are dropped (as cytominer drops them). Rows keep
# their order.
normalize_frame <- function(population, variables, strata, parameters) {
  population <- as.data.frame(population, check.names = FALSE)
  parameters <- as.data.frame(parameters, check.names = FALSE)
  levels <- unique(stratum_key(parameters, strata))
  at <- match(stratum_key(parameters, strata), levels)
  column <- match(parameters$variable, variables)
  loc <- disp <- matrix(NA_real_, length(levels), length(variables))
  loc[cbind(at, column)] <- parameters$location
  disp[cbind(at, column)] <- parameters$dispersion
  row_level <- match(stratum_key(population, strata), levels)
  population <- population[!is.na(row_level), , drop = FALSE]
  row_level <- row_level[!is.na(row_level)]
  values <- as.matrix(population[, variables, drop = FALSE])
  storage.mode(values) <- "double"
  values <- (values - loc[row_level, , drop = FALSE]) / disp[row_level, , drop = FALSE]
  for (j in seq_along(variables)) population[[variables[j]]] <- values[, j]
  rownames(population) <- NULL
  tibble::as_tibble(population, .name_repair = "minimal")
}

# Mean and standard deviation of every variable in every stratum of the
# controls, computed in the database by one statement.
database_parameters <- function(sample, variables, strata) {
  wide <- as.data.frame(aggregate_in_database(sample, variables, strata, c("mean", "sd")), check.names = FALSE)
  long <- lapply(variables, function(v) {
    out <- wide[, strata, drop = FALSE]
    out$variable <- v
    out$location <- wide[[paste0(v, "_mean")]]
    out$dispersion <- wide[[paste0(v, "_sd")]]
    out
  })
  tibble::as_tibble(do.call(rbind, long))
}

# The control rows of `population` described by `sample`.
control_rows <- function(population, sample, fun) {
  if (is.data.frame(sample) && is.data.frame(population)) {
    if (nrow(sample) == 0) stop_bridge(fun, "`sample` (the control rows) has no rows")
    return(sample)
  }
  if (!is.list(sample) || is.data.frame(sample) || is.null(names(sample)) ||
      any(names(sample) == "")) {
    stop_bridge(fun, "`sample` must be a named list of column values such as ",
                "list(Metadata_pert_type = \"negcon\")",
                if (!is.data.frame(population)) " when `population` is a database table" else
                  " or a data frame of control rows")
  }
  check_columns(population, names(sample), "sample", fun)
  for (column in names(sample)) {
    values <- sample[[column]]
    population <- dplyr::filter(population, !!rlang::sym(column) %in% !!values)
  }
  n <- dplyr::pull(dplyr::collect(dplyr::count(population)), n)
  if (n == 0) {
    stop_bridge(fun, "no control rows where ",
                paste0(names(sample), " in {", vapply(sample, paste, "", collapse = ", "), "}",
                       collapse = " and "))
  }
  population
}

# Location and dispersion of every variable in every stratum of the controls,
# as a long data frame (strata..., variable, location, dispersion).
control_parameters <- function(sample, variables, strata, operation) {
  original <- variables
  variables <- placeholder_names(original)
  if (operation == "robustize") {
    sample <- dplyr::collect(dplyr::select(sample, dplyr::all_of(c(strata, variables))))
    location <- ~ stats::median(., na.rm = TRUE)
    dispersion <- ~ stats::mad(., na.rm = TRUE)
  } else {
    location <- ~ mean(., na.rm = TRUE)
    dispersion <- ~ sd(., na.rm = TRUE)
  }
  summarise_long <- function(f, name) {
    wide <- dplyr::collect(dplyr::summarise_at(
      dplyr::group_by(sample, !!!rlang::syms(strata)), .vars = variables, .funs = f))
    wide <- as.data.frame(dplyr::ungroup(wide), check.names = FALSE)
    long <- stats::reshape(wide, direction = "long", varying = list(variables),
                           v.names = name, timevar = "variable", times = variables,
                           idvar = strata)
    long[order(long$variable), c(strata, "variable", name)]
  }
  location_long <- summarise_long(location, "location")
  dispersion_long <- summarise_long(dispersion, "dispersion")
  out <- merge(location_long, dispersion_long, by = c(strata, "variable"), sort = FALSE)
  out$variable <- from_placeholders(out$variable, original)
  rownames(out) <- NULL
  tibble::as_tibble(out)
}
