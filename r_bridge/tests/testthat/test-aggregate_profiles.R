test_that("means per stratum are the hand-computed ones", {
  out <- aggregate_profiles(wells_fixture(), c("x", "200814_at"), "plate")
  expect_equal(out$plate, c("P1", "P2"))
  expect_equal(out$x, c(4, 18.5))
  expect_equal(out$`200814_at`, c(5, 1.75))
})

test_that("median and mean+sd work and name the columns", {
  out <- aggregate_profiles(wells_fixture(), "x", "plate", operation = "median")
  expect_equal(out$x, c(4, 17))
  out <- aggregate_profiles(wells_fixture(), "x", "plate", operation = "mean+sd")
  expect_equal(colnames(out), c("plate", "x_mean", "x_sd"))
  expect_equal(out$x_sd[1], sd(c(1, 3, 5, 7)))
})

test_that("the database path gives the in-memory numbers", {
  path <- sqlite_fixture(wells_fixture())
  in_db <- aggregate_profiles(sqlite_table(path, "wells"), c("x", "200814_at"), c("plate", "type"))
  in_memory <- aggregate_profiles(wells_fixture(), c("x", "200814_at"), c("plate", "type"))
  expect_equal(as.data.frame(in_db), as.data.frame(in_memory))
  median_db <- aggregate_profiles(sqlite_table(path, "wells"), "x", "plate", operation = "median")
  expect_equal(median_db$x, c(4, 17))
})

test_that("bad arguments are named", {
  expect_error(aggregate_profiles(wells_fixture(), "x", "plat"), "not found: plat")
  expect_error(aggregate_profiles(wells_fixture(), "type", "plate"), "non-numeric.*type")
  expect_error(aggregate_profiles(wells_fixture(), "x", "plate", operation = "average"),
               "unknown operation 'average'; choose one of: mean, median")
  expect_error(aggregate_profiles(wells_fixture()[0, ], "x", "plate"), "no rows")
  expect_error(aggregate_profiles(list(1), "x", "plate"), "a sqlite_table\\(\\) or a postgres_table\\(\\)")
})

test_that("in the database it equals cytominer::aggregate itself, for every operation", {
  path <- system.file("extdata", "fixture_intensities_shapes.sqlite", package = "cytominer")
  variables <- c("m_intensities_mean", "m_intensities_maximum", "m_intensities_integrated")
  strata <- c("g_plate", "g_well", "g_channel")
  con <- DBI::dbConnect(RSQLite::SQLite(), path)
  on.exit(DBI::dbDisconnect(con))
  for (operation in c("mean", "median", "min", "max", "sd", "mean+sd")) {
    ours <- aggregate_profiles(sqlite_table(path, "view_intensities"), variables, strata, operation)
    theirs <- cytominer::aggregate(dplyr::tbl(con, "view_intensities"), variables, strata, operation) |>
      dplyr::collect() |> dplyr::arrange(g_plate, g_well, g_channel)
    expect_equal(names(ours), names(theirs))
    for (column in setdiff(names(theirs), strata)) {
      expect_equal(ours[[column]], theirs[[column]], tolerance = 1e-10, info = paste(operation, column))
    }
  }
})

test_that("count_column counts the rows of each stratum, in memory and in the database alike", {
  out <- aggregate_profiles(wells_fixture(), "x", c("plate", "type"), count_column = "n_cells")
  expect_equal(colnames(out), c("plate", "type", "n_cells", "x"))
  expect_equal(out$n_cells, c(2L, 2L, 2L, 2L))
  uneven <- wells_fixture()[-1, ]
  out <- aggregate_profiles(uneven, "x", "plate", count_column = "n_cells")
  expect_equal(out$n_cells, c(3L, 4L))
  path <- sqlite_fixture(uneven)
  in_db <- aggregate_profiles(sqlite_table(path, "wells"), "x", "plate", count_column = "n_cells")
  expect_equal(as.numeric(in_db$n_cells), c(3, 4))
  expect_equal(in_db$x, out$x)
  expect_error(aggregate_profiles(wells_fixture(), "x", "plate", count_column = "x"), "count_column")
})
