# Run the rosettabridge testthat suite against the installed package and
# print a closing line of the form "N passed, N failed, N skipped".
args <- commandArgs(trailingOnly = TRUE)
test_dir <- if (length(args)) args[[1]] else "r_bridge/tests/testthat"
suppressPackageStartupMessages(library(testthat))
results <- as.data.frame(testthat::test_dir(test_dir, package = "rosettabridge",
                                            load_package = "installed",
                                            reporter = "summary",
                                            stop_on_failure = FALSE))
n_failed <- sum(results$failed) + sum(results$error)
n_skipped <- sum(results$skipped)
n_passed <- sum(results$nb) - sum(results$failed) - n_skipped
cat(sprintf("testthat: %d passed, %d failed, %d skipped\n", n_passed, n_failed, n_skipped))
quit(status = if (n_failed > 0) 1 else 0)
