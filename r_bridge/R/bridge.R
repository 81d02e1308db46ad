# Helpers used by the Python package through rpy2. Data cross the boundary
# as one numeric matrix plus a list of plain metadata vectors, which is far
# faster than converting a wide data frame and keeps names such as
# "200814_at" untouched.

#' Build a data frame from metadata vectors and a numeric matrix
#'
#' @param metadata A named list of character or numeric vectors.
#' @param values A numeric matrix with one column per variable.
#' @param variables Column names for `values`.
#' @return A data frame with the metadata columns, then the variables; names
#'   are kept as given.
#' @keywords internal
#' @export
bridge_frame <- function(metadata, values, variables) {
  values <- as.data.frame(values, stringsAsFactors = FALSE)
  colnames(values) <- variables
  if (length(metadata) == 0) return(values)
  metadata <- as.data.frame(metadata, stringsAsFactors = FALSE, check.names = FALSE)
  out <- cbind(metadata, values)
  colnames(out) <- c(names(metadata), variables)
  out
}

#' Split a data frame into metadata vectors and a numeric matrix
#'
#' @param frame A data frame.
#' @param variables Names of its numeric columns to return as a matrix.
#' @return A list: `metadata` (named list of character or double vectors),
#'   `values` (double matrix), `variables`, and any `"parameters"` and
#'   `"dropped"` attributes of `frame`.
#' @keywords internal
#' @export
bridge_parts <- function(frame, variables) {
  variables <- intersect(variables, colnames(frame))
  plain <- function(x) {
    if (is.factor(x) || is.logical(x)) return(as.character(x))
    if (is.numeric(x)) return(as.double(x))
    as.character(x)
  }
  metadata_names <- setdiff(colnames(frame), variables)
  metadata <- lapply(metadata_names, function(m) plain(frame[[m]]))
  names(metadata) <- metadata_names
  values <- matrix(as.double(unlist(lapply(variables, function(v) frame[[v]]))),
                   nrow = nrow(frame), ncol = length(variables))
  list(metadata = metadata, values = values, variables = variables,
       parameters = attr(frame, "parameters"), dropped = attr(frame, "dropped"))
}

#' Call a function and return its value, warnings and error message
#'
#' @param f A function.
#' @param args A list of arguments.
#' @return A list with `value`, `warnings` (character) and `error`
#'   (character, empty when the call succeeded).
#' @keywords internal
#' @export
bridge_call <- function(f, args) {
  warnings <- character(0)
  value <- tryCatch(
    withCallingHandlers(do.call(f, args), warning = function(w) {
      warnings <<- c(warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    }),
    error = function(e) structure(conditionMessage(e), class = "bridge_error")
  )
  if (inherits(value, "bridge_error")) {
    return(list(value = NULL, warnings = warnings, error = unclass(value)))
  }
  list(value = value, warnings = warnings, error = character(0))
}
