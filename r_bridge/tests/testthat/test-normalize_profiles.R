test_that("standardize uses the controls of each plate", {
  out <- normalize_profiles(wells_fixture(), "x", "plate", list(type = "negcon"))
  # P1 controls 1, 3: mean 2, sd sqrt(2); P2 controls 10, 14: mean 12, sd sqrt(8)
  expect_equal(out$x, c(-1, 1, 3, 5, -1, 1, 4, 9) / c(rep(sqrt(2), 4), rep(sqrt(2), 4)))
  params <- attr(out, "parameters")
  expect_equal(params$location[params$plate == "P2"], 12)
  expect_equal(params$dispersion[params$plate == "P2"], sqrt(8))
})

test_that("robustize uses median and mad", {
  out <- normalize_profiles(wells_fixture(), "x", "plate", list(type = "negcon"),
                            operation = "robustize")
  expect_equal(out$x[out$plate == "P1"], (c(1, 3, 5, 7) - 2) / stats::mad(c(1, 3)))
})

test_that("a control subset given as a data frame works", {
  wells <- wells_fixture()
  a <- normalize_profiles(wells, "x", "plate", wells[wells$type == "negcon", ])
  b <- normalize_profiles(wells, "x", "plate", list(type = "negcon"))
  expect_equal(a$x, b$x)
})

test_that("zero-dispersion features are dropped by name, or refused", {
  # 200814_at is 1, 1 in the P2 controls: sd 0
  expect_warning(out <- normalize_profiles(wells_fixture(), c("x", "200814_at"), "plate",
                                           list(type = "negcon")), "200814_at")
  expect_false("200814_at" %in% colnames(out))
  expect_equal(attr(out, "dropped")$variable, "200814_at")
  expect_error(normalize_profiles(wells_fixture(), c("x", "200814_at"), "plate",
                                  list(type = "negcon"), on_low_dispersion = "error"),
               "200814_at")
})

test_that("a plate without controls is an error that names it", {
  wells <- wells_fixture()
  wells$type[wells$plate == "P2"] <- "trt"
  expect_error(normalize_profiles(wells, "x", "plate", list(type = "negcon")), "plate=P2")
  expect_warning(out <- normalize_profiles(wells, "x", "plate", list(type = "negcon"),
                                           on_missing_controls = "drop"), "P2")
  expect_equal(unique(out$plate), "P1")
})

test_that("the database path equals the in-memory path", {
  path <- sqlite_fixture(wells_fixture())
  in_db <- normalize_profiles(sqlite_table(path, "wells"), "x", "plate", list(type = "negcon"))
  in_memory <- normalize_profiles(wells_fixture(), "x", "plate", list(type = "negcon"))
  expect_equal(in_db$x[order(in_db$plate, in_db$x)], in_memory$x[order(in_memory$plate, in_memory$x)])
})

test_that("bad arguments are named", {
  expect_error(normalize_profiles(wells_fixture(), "x", "plate", list(type = "negcon"),
                                  operation = "zscore"), "choose one of: standardize, robustize")
  expect_error(normalize_profiles(wells_fixture(), "x", "plate", list(type = "none")),
               "no control rows")
  expect_error(normalize_profiles(wells_fixture(), "x", "plate", list(kind = "negcon")),
               "not found: kind")
  path <- sqlite_fixture(wells_fixture())
  expect_error(normalize_profiles(sqlite_table(path, "wells"), "x", "plate",
                                  wells_fixture()), "named list")
})

test_that("in the database it equals cytominer::normalize itself, and survives CellProfiler width", {
  path <- system.file("extdata", "fixture_intensities_shapes.sqlite", package = "cytominer")
  variables <- c("m_intensities_mean", "m_intensities_maximum", "m_intensities_integrated")
  strata <- c("g_plate", "g_channel")
  con <- DBI::dbConnect(RSQLite::SQLite(), path)
  on.exit(DBI::dbDisconnect(con))
  RSQLite::initExtension(con)
  population <- dplyr::tbl(con, "view_intensities")
  for (operation in c("standardize", "robustize")) {
    ours <- suppressWarnings(normalize_profiles(sqlite_table(path, "view_intensities"), variables, strata,
                                                list(g_well = c("A01", "A02")), operation = operation))
    theirs <- cytominer::normalize(population %>% dplyr::collect(), variables, strata,
                                   population %>% dplyr::filter(g_well %in% c("A01", "A02")) %>% dplyr::collect(),
                                   operation = operation)
    key <- c("g_plate", "g_well", "g_image", "g_object", "g_pattern", "g_channel")
    ours <- dplyr::arrange(ours, !!!rlang::syms(key))
    theirs <- dplyr::arrange(theirs, !!!rlang::syms(key))
    for (v in variables) expect_equal(ours[[v]], theirs[[v]], tolerance = 1e-10, info = paste(operation, v))
  }
  wide <- as.data.frame(matrix(rnorm(60 * 400), 60, 400))
  names(wide) <- paste0("Cells_f", seq_len(400))
  wide$plate <- rep(c("P1", "P2"), 30)
  wide$type <- rep(c("ctrl", "trt", "trt"), 20)
  wide_path <- withr::local_tempfile(fileext = ".sqlite")
  wide_con <- DBI::dbConnect(RSQLite::SQLite(), wide_path)
  DBI::dbWriteTable(wide_con, "cells", wide)
  DBI::dbDisconnect(wide_con)
  out <- normalize_profiles(sqlite_table(wide_path, "cells"), paste0("Cells_f", 1:400), "plate", list(type = "ctrl"))
  expect_equal(nrow(out), 60)
  expect_equal(ncol(out), 402)
})
