# The statistics called from R equal the Python API called directly on the same data (read from one CSV in
# Python, written with 17 significant digits back), and data frames cross intact.

python_or_skip <- function() {
  front <- tryCatch(rosetta_python(), error = function(e) e)
  if (inherits(front, "error")) {
    if (nzchar(Sys.getenv("CI"))) stop(conditionMessage(front))  # in CI a missing Python is a failure
    skip(paste("no Python with rosetta_stats:", conditionMessage(front)))
  }
  front
}

# The same statistic run by Python on `frame` (written to CSV and read by pandas), its table back via CSV.
python_table <- function(frame, code) {
  dir <- withr::local_tempdir(.local_envir = parent.frame())
  utils::write.csv(frame, file.path(dir, "in.csv"), row.names = FALSE, na = "")
  reticulate::py_run_string(paste0(
    "import pandas as pd, rosetta_stats as rs\n",
    "frame = pd.read_csv(r'", file.path(dir, "in.csv"), "')\n",
    "result = ", code, "\n",
    "result.table.to_csv(r'", file.path(dir, "out.csv"), "', index=False, float_format='%.17g')\n"))
  utils::read.csv(file.path(dir, "out.csv"), check.names = FALSE, stringsAsFactors = FALSE)
}

expect_same_table <- function(from_r, from_python) {
  from_r <- as.data.frame(from_r)
  expect_equal(names(from_r), names(from_python))
  for (name in names(from_r)) {
    if (is.logical(from_r[[name]])) {
      expect_equal(from_r[[name]], as.logical(toupper(from_python[[name]])), info = name)
    } else if (is.numeric(from_r[[name]])) {
      expect_equal(as.double(from_r[[name]]), as.double(from_python[[name]]), tolerance = 1e-12, info = name)
    } else {
      expect_equal(as.character(from_r[[name]]), as.character(from_python[[name]]), info = name)
    }
  }
}

wells_frame <- function(n_perts = 20, seed = 1) {
  set.seed(seed)
  index <- rep(seq_len(n_perts), each = 3)
  frame <- data.frame(pert = sprintf("p%02d", index), stringsAsFactors = FALSE)
  signal <- matrix(rnorm(n_perts * 5), n_perts)[index, ] + matrix(rnorm(length(index) * 5, sd = 0.6), length(index))
  colnames(signal) <- paste0("Cells_f", 1:5)
  cbind(frame, as.data.frame(signal))
}

paired_frames <- function(n = 40, seed = 2) {
  set.seed(seed)
  latent <- matrix(rnorm(n * 2), n)
  cp <- as.data.frame(latent %*% matrix(rnorm(12), 2) + matrix(rnorm(n * 6), n))
  names(cp) <- paste0("Cells_f", 1:6)
  ge <- as.data.frame(latent %*% matrix(rnorm(8), 2) + matrix(rnorm(n * 4), n))
  names(ge) <- c("201000_at", "200814_at", "1007_s_at", "121_at")
  cp$pert <- ge$pert <- sprintf("t%03d", seq_len(n))
  list(cp = cp, ge = ge, both = merge(cp, ge, by = "pert", sort = FALSE))
}

test_that("replicate reproducibility and mAP from R equal Python's to 1e-12", {
  python_or_skip()
  wells <- wells_frame()
  ours <- replicate_reproducibility(wells, perturbation = "pert", n_null = 300, seed = 3)
  expect_s3_class(ours, "rosetta_result")
  expect_same_table(ours$table, python_table(wells, "rs.replicate_reproducibility(frame, perturbation='pert', n_null=300, seed=3)"))
  expect_equal(ours$settings$n_null, 300)
  ours <- mean_average_precision(wells, perturbation = "pert", negatives = "others", n_null = 200, seed = 1)
  expect_same_table(ours$table, python_table(wells, "rs.mean_average_precision(frame, perturbation='pert', negatives='others', n_null=200, seed=1)"))
  expect_output(print(ours), "Mean average precision")
})

test_that("paired statistics from R equal Python's, and probe names stay exact", {
  python_or_skip()
  frames <- paired_frames()
  split_code <- paste0("frame[['pert'] + [c for c in frame.columns if c.startswith('Cells_')]], ",
                       "frame[['pert'] + [c for c in frame.columns if c.endswith('_at')]]")
  genes <- gene_predictability(frames$cp, frames$ge, key = "pert", n_permutations = 20, seed = 0)
  expect_true(all(c("201000_at", "1007_s_at") %in% genes$table$gene))
  expect_same_table(genes$table, python_table(frames$both, paste0(
    "rs.gene_predictability(", split_code, ", key='pert', n_permutations=20, seed=0)")))
  correlation <- feature_gene_correlation(frames$cp, frames$ge, key = "pert")
  expect_same_table(correlation$table, python_table(frames$both, paste0(
    "rs.feature_gene_correlation(", split_code, ", key='pert')")))
  cca <- canonical_correlation(frames$cp, frames$ge, key = "pert", n_components = 2, n_pcs = 4,
                               n_permutations = 10, seed = 0)
  expect_same_table(cca$table, python_table(frames$both, paste0(
    "rs.canonical_correlation(", split_code, ", key='pert', n_components=2, n_pcs=4, n_permutations=10, seed=0)")))
  mantel <- similarity_concordance(frames$cp, frames$ge, key = "pert", n_permutations = 50, seed = 0)
  expect_same_table(mantel$table, python_table(frames$both, paste0(
    "rs.similarity_concordance(", split_code, ", key='pert', n_permutations=50, seed=0)")))
})

test_that("loaders return objects that the next call takes", {
  python_or_skip()
  root <- withr::local_tempdir()
  reticulate::py_run_string(sprintf("import rosetta_stats as rs; rs.write_rosetta_like(r'%s', datasets=['lincs'], seed=0)", root))
  cp <- load_profiles("lincs", "cp", root = root)
  expect_s3_class(cp, "rosetta_object")
  expect_true(nrow(cp$table) > 0)
  reps <- replicate_reproducibility(cp, n_null = 100, seed = 0)
  direct <- reticulate::py_run_string(sprintf(paste0(
    "import rosetta_stats as rs\ncorrelations = rs.replicate_reproducibility(rs.load_profiles('lincs', 'cp', root=r'%s'), ",
    "n_null=100, seed=0).table['replicate_correlation'].tolist()"), root))
  expect_equal(reps$table$replicate_correlation, as.double(unlist(direct$correlations)), tolerance = 1e-12)
  paired <- load_paired("lincs", root)
  expect_s3_class(paired, "rosetta_object")
  expect_s3_class(gene_predictability(paired, n_permutations = 0, n_splits = 3), "rosetta_result")
})

test_that("data frames cross intact: names, NA of every type, integers, factors", {
  front <- python_or_skip()
  frame <- data.frame(`201000_at` = c(1.5, NA, -2), text = c("a", NA, ""), count = c(1L, NA, 3L),
                      flag = c(TRUE, NA, FALSE), level = factor(c("x", "y", NA)), check.names = FALSE,
                      stringsAsFactors = FALSE)
  back <- rosettabridge:::from_python(front$to_r(front$frame_from_parts(reticulate::r_to_py(rosettabridge:::frame_to_parts(frame)))))
  expect_equal(names(back), names(frame))
  expect_equal(back$`201000_at`, frame$`201000_at`)
  expect_identical(back$text, c("a", NA, ""))
  expect_identical(back$count, c(1L, NA, 3L))
  expect_identical(back$flag, c(TRUE, NA, FALSE))
  expect_identical(back$level, c("x", "y", NA))
})

test_that("errors from Python are one line naming the function", {
  python_or_skip()
  expect_error(replicate_reproducibility(wells_frame(), perturbation = "nope"), "replicate_reproducibility\\(\\).*nope")
  expect_error(rosetta_call("write_results", list()), "cannot be called from R")
})
