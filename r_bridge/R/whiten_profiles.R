#' Sphere (whiten) profiles against reference rows with cytominer
#'
#' An argument-checked call of cytominer's `transform(operation = "whiten")`:
#' the covariance of the reference rows (`sample`) is eigen-decomposed and
#' every row is centred on the reference mean and projected on the
#' eigenvectors scaled by `(eigenvalue + regularization_param)^(-1/2)`
#' (PCA whitening). The output replaces the variables by `PC1`, `PC2`, ...
#'
#' @inheritParams normalize_profiles
#' @param regularization_param Added to every eigenvalue before the inverse
#'   square root (cytominer's default is 1).
#' @return A tibble: the metadata columns of `population`, then `PC1` ... `PCd`.
#' @export
#' @examples
#' wells <- data.frame(type = rep(c("ctrl", "trt"), each = 6),
#'                     x = c(1, 2, 3, 4, 5, 7, 2, 3, 1, 5, 6, 2),
#'                     y = c(2, 1, 4, 3, 6, 5, 9, 1, 2, 3, 4, 8))
#' whiten_profiles(wells, c("x", "y"), list(type = "ctrl"), regularization_param = 1e-6)
whiten_profiles <- function(population, variables, sample, regularization_param = 1) {
  fun <- "whiten_profiles"
  if (!is.numeric(regularization_param) || length(regularization_param) != 1 || regularization_param < 0) {
    stop_bridge(fun, "`regularization_param` must be one number >= 0")
  }
  opened <- open_population(population, fun)
  on.exit(opened$close(), add = TRUE)
  population <- opened$tbl
  check_not_empty(population, fun)
  check_columns(population, variables, "variables", fun)
  check_numeric(population, variables, fun)
  sample <- control_rows(population, sample, fun)
  n <- dplyr::pull(dplyr::collect(dplyr::count(sample)), n)
  if (n < 2) stop_bridge(fun, "the reference rows (`sample`) must be at least 2; got ", n)
  result <- with_quiet_logger(
    cytominer::transform(population = to_placeholders(population, variables, fun),
                         variables = placeholder_names(variables),
                         sample = to_placeholders(sample, variables, fun),
                         operation = "whiten", regularization_param = regularization_param)
  )
  tibble::as_tibble(dplyr::collect(result), .name_repair = "minimal")
}
