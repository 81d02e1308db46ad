# The Python that runs rosetta_stats, found once per R session.
#
# Recorded when the package was installed (make setup installs it with the project's .venv Python); at run
# time the first of these wins: option rosettabridge.python, the environment variable ROSETTA_STATS_PYTHON,
# the recorded one, .venv/bin/python in the working folder or one of its parents, python3 on the PATH.
.installed_python <- Sys.getenv("ROSETTABRIDGE_PYTHON_AT_INSTALL", "")

.python_state <- new.env(parent = emptyenv())

python_candidates <- function() {
  walk_up <- function(dir) {
    found <- character(0)
    for (i in 1:8) {
      found <- c(found, file.path(dir, ".venv", "bin", "python"))
      parent <- dirname(dir)
      if (identical(parent, dir)) break
      dir <- parent
    }
    found
  }
  candidates <- c(getOption("rosettabridge.python", ""), Sys.getenv("ROSETTA_STATS_PYTHON", ""),
                  .installed_python, walk_up(normalizePath(getwd(), mustWork = FALSE)),
                  unname(Sys.which("python3")))
  unique(candidates[nzchar(candidates) & file.exists(candidates)])
}

#' The rosetta_stats Python module, through reticulate
#'
#' Finds a Python that can import `rosetta_stats` (see Details) and returns
#' the module's R front end. Called by every statistic; call it yourself to
#' check the setup.
#'
#' The Python is, in this order: `options(rosettabridge.python = ...)`, the
#' environment variable `ROSETTA_STATS_PYTHON`, the Python recorded when the
#' package was installed, `.venv/bin/python` in the working folder or a
#' parent, `python3` on the PATH.
#' @return The `rosetta_stats.interop.r_front` module (a reticulate object).
#' @export
#' @examples
#' if (requireNamespace("reticulate", quietly = TRUE) && length(rosettabridge:::python_candidates())) {
#'   front <- try(rosetta_python(), silent = TRUE)
#' }
rosetta_python <- function() {
  if (!is.null(.python_state$front)) return(.python_state$front)
  fun <- "rosetta_python"
  if (!requireNamespace("reticulate", quietly = TRUE)) {
    stop_bridge(fun, "the statistics run in Python through the R package reticulate, which is not installed")
  }
  candidates <- python_candidates()
  if (reticulate::py_available(initialize = FALSE)) {
    candidates <- reticulate::py_config()$python  # one Python per R session: the one already started
  }
  for (python in candidates) {
    # where that Python finds rosetta_stats, asked in a process of its own: an editable install's import
    # hook does not survive reticulate's start-up, so the folder is put on the embedded sys.path
    home <- suppressWarnings(tryCatch(system2(python, c("-c", shQuote(
      "import os, rosetta_stats; print(os.path.dirname(os.path.dirname(rosetta_stats.__file__)))")),
      stdout = TRUE, stderr = FALSE), error = function(e) character(0)))
    if (!length(home) || !is.null(attr(home, "status"))) next
    ok <- tryCatch({
      reticulate::use_python(python, required = TRUE)
      sys <- reticulate::import("sys", convert = FALSE)
      if (!reticulate::py_module_available("rosetta_stats")) sys$path$insert(0L, utils::tail(home, 1))
      reticulate::py_module_available("rosetta_stats")
    }, error = function(e) FALSE)
    if (isTRUE(ok)) {
      .python_state$front <- reticulate::import("rosetta_stats.interop.r_front", convert = FALSE)
      .python_state$python <- python
      return(.python_state$front)
    }
  }
  stop_bridge(fun, "no Python that can import rosetta_stats was found (tried: ",
              if (length(candidates)) paste(candidates, collapse = ", ") else "none",
              "); set options(rosettabridge.python = \"/path/to/python\") or ROSETTA_STATS_PYTHON")
}
