# Data frames to and from Python in parts (see rosetta_stats/interop/r_front.py): doubles as one matrix,
# integers and logicals as doubles with NA masks, text with NA masks, names kept exactly.

frame_to_parts <- function(frame) {
  frame <- as.data.frame(frame, stringsAsFactors = FALSE, optional = TRUE)
  names <- names(frame)
  if (anyDuplicated(names)) stop_bridge("rosetta_stats", "the data frame repeats column names")
  doubles <- names[vapply(frame, function(x) is.double(x) && !inherits(x, c("Date", "POSIXt")), logical(1))]
  columns <- list()
  for (name in setdiff(names, doubles)) {
    x <- frame[[name]]
    missing <- is.na(x)
    if (is.factor(x) || inherits(x, c("Date", "POSIXt"))) x <- as.character(x)
    type <- if (is.logical(x)) "logical" else if (is.integer(x)) "integer" else "character"
    values <- if (type == "character") ifelse(missing, "", as.character(x)) else as.double(x)
    columns[[name]] <- list(type = type, values = as.list(values), missing = as.list(missing))
    if (type != "character") columns[[name]]$values <- values
    columns[[name]]$missing <- missing
  }
  matrix <- if (length(doubles)) as.matrix(frame[doubles]) else matrix(numeric(0), nrow(frame), 0)
  dimnames(matrix) <- NULL
  list(`__rosetta_frame__` = TRUE, names = as.list(names), n_rows = nrow(frame),
       matrix = matrix, matrix_names = as.list(doubles), columns = columns)
}

parts_to_tibble <- function(parts) {
  if (is.null(parts)) return(NULL)
  n <- as.integer(parts$n_rows)
  out <- list()
  matrix_names <- unlist(parts$matrix_names)
  if (length(matrix_names)) {
    values <- matrix(as.double(parts$matrix), nrow = n)
    for (j in seq_along(matrix_names)) out[[matrix_names[j]]] <- values[, j]
  }
  for (name in names(parts$columns)) {
    column <- parts$columns[[name]]
    missing <- as.logical(column$missing)
    values <- switch(column$type,
      character = as.character(unlist(column$values)),
      integer = as.integer(round(as.double(column$values))),
      logical = as.double(column$values) > 0,
      as.double(column$values))
    if (length(values) != n) values <- rep_len(values, n)
    values[missing] <- NA
    out[[name]] <- values
  }
  names_in_order <- unlist(parts$names)
  tibble::as_tibble(out[names_in_order], .name_repair = "minimal")
}

# An R argument as Python should see it: data frames in parts, rosetta objects as their Python reference.
to_python_argument <- function(x) {
  if (is.null(x)) return(NULL)
  if (inherits(x, c("rosetta_object", "rosetta_result"))) return(x$object)
  if (is.data.frame(x)) return(frame_to_parts(x))
  if (is.list(x)) return(lapply(x, to_python_argument))
  if (is.factor(x)) return(as.character(x))
  x
}
