write_fixture <- function(dir, rows_recorded = 2L) {
  dir.create(dir, showWarnings = FALSE, recursive = TRUE)
  genes <- data.frame(gene = c("200814_at", "201000_at"), r2 = c(0.4, 0.1),
                      significant = c(TRUE, FALSE), n = c(3L, 4L), check.names = FALSE)
  saveRDS(genes, file.path(dir, "genes.rds"))
  utils::write.csv(genes, file.path(dir, "genes.csv"), row.names = FALSE)
  sha <- function(f) digest::digest(file = file.path(dir, f), algo = "sha256")
  jsonlite::write_json(list(package = "rosetta_stats", version = "0.1.0",
                            files = list(genes.csv = sha("genes.csv"), genes.rds = sha("genes.rds")),
                            tables = list(genes = list(rows = rows_recorded,
                                                       files = list(csv = "genes.csv", rds = "genes.rds")))),
                       file.path(dir, "manifest.json"), auto_unbox = TRUE)
  dir
}

test_that("a valid folder reads back as tibbles with types", {
  dir <- write_fixture(withr::local_tempdir())
  out <- read_results(dir)
  genes <- out$tables$genes
  expect_s3_class(genes, "tbl_df")
  expect_equal(genes$gene, c("200814_at", "201000_at"))
  expect_type(genes$significant, "logical")
  expect_type(genes$n, "integer")
  expect_equal(out$manifest$version, "0.1.0")
})

test_that("a missing file or a wrong row count is an error", {
  dir <- write_fixture(withr::local_tempdir())
  file.remove(file.path(dir, "genes.csv"))
  expect_error(read_results(dir), "missing: genes.csv")
  dir <- write_fixture(withr::local_tempdir(), rows_recorded = 3L)
  expect_error(read_results(dir), "has 2 rows; the manifest records 3")
  expect_error(read_results(file.path(tempdir(), "nope")), "not found")
})

test_that("a tampered file, a path outside the folder and a corrupt manifest are refused", {
  dir <- write_fixture(withr::local_tempdir())
  genes <- readRDS(file.path(dir, "genes.rds"))
  genes$r2[1] <- 0.99
  saveRDS(genes, file.path(dir, "genes.rds"))
  expect_error(read_results(dir), "do not match their sha256.*genes.rds")
  expect_equal(read_results(dir, verify = FALSE)$tables$genes$r2[1], 0.99)
  dir <- write_fixture(withr::local_tempdir())
  manifest <- jsonlite::read_json(file.path(dir, "manifest.json"))
  manifest$files[["../elsewhere.csv"]] <- strrep("0", 64)
  jsonlite::write_json(manifest, file.path(dir, "manifest.json"), auto_unbox = TRUE)
  expect_error(read_results(dir), "outside the folder: ../elsewhere.csv")
  writeLines("{not json", file.path(dir, "manifest.json"))
  expect_error(read_results(dir), "manifest.json is corrupt")
})

test_that("the example results shipped with the package read back, checked", {
  dir <- system.file("extdata", "example_results", package = "rosettabridge")
  expect_true(nzchar(dir))
  out <- read_results(dir)
  expect_setequal(names(out$tables), c("replicates", "genes"))
  expect_equal(nrow(out$tables$replicates), 60)
  expect_equal(nrow(out$tables$genes), 10)
  expect_true(all(out$tables$genes$p_value > 0 & out$tables$genes$p_value <= 1))
  # the numbers the CSV holds are the RDS's (the two files are independent writes of one table)
  csv <- utils::read.csv(file.path(dir, "genes.csv"))
  expect_equal(csv$r2, out$tables$genes$r2, tolerance = 1e-12)
})

test_that("links, FIFOs and wrong sizes are refused without reading them", {
  dir <- write_fixture(withr::local_tempdir())
  outside <- withr::local_tempfile(fileext = ".csv")
  file.copy(file.path(dir, "genes.csv"), outside)
  file.remove(file.path(dir, "genes.csv"))
  file.symlink(outside, file.path(dir, "genes.csv"))
  expect_error(read_results(dir), "symbolic link")
  file.remove(file.path(dir, "genes.csv"))
  skip_if(Sys.which("mkfifo") == "", "mkfifo not available")
  system2("mkfifo", file.path(dir, "genes.csv"))
  expect_error(read_results(dir), "empty or not a regular file")  # returns at once: nothing is read
})

test_that("a recorded size that differs stops the reading", {
  dir <- write_fixture(withr::local_tempdir())
  manifest <- jsonlite::read_json(file.path(dir, "manifest.json"))
  manifest$sizes <- list(genes.csv = 1, genes.rds = file.size(file.path(dir, "genes.rds")))
  jsonlite::write_json(manifest, file.path(dir, "manifest.json"), auto_unbox = TRUE)
  expect_error(read_results(dir), "genes.csv has [0-9]+ bytes; the manifest records 1")
})

test_that("manifests of the wrong shape are one error, not a crash", {
  dir <- write_fixture(withr::local_tempdir())
  path <- file.path(dir, "manifest.json")
  shapes <- list('{"package": "rosetta_stats", "files": 5, "tables": {}}',
                 '{"package": "rosetta_stats", "files": ["a"], "tables": {}}',
                 '{"package": "rosetta_stats", "files": {}, "tables": {"t": {"files": {}}}}',
                 '[1, 2]',
                 paste0(strrep("[", 5000), strrep("]", 5000)))
  for (shape in shapes) {
    writeLines(shape, path)
    expect_error(read_results(dir), "read_results\\(\\)")
  }
})
