test_that("missing files and tables are named, and no file is created", {
  missing <- file.path(tempdir(), "does-not-exist.sqlite")
  expect_error(sqlite_table(missing, "Cells"), "SQLite file not found")
  expect_false(file.exists(missing))
  path <- sqlite_fixture(wells_fixture())
  expect_error(sqlite_table(path, "Cellz"), "table 'Cellz' not found.*wells")
  expect_s3_class(sqlite_table(path, "wells"), "rosetta_sqlite_table")
})

test_that("cytominer's own fixture aggregates per well in the database", {
  path <- system.file("extdata", "fixture_intensities_shapes.sqlite", package = "cytominer")
  out <- aggregate_profiles(sqlite_table(path, "view_intensities"), "m_intensities_mean",
                            c("g_plate", "g_well"))
  con <- DBI::dbConnect(RSQLite::SQLite(), path)
  on.exit(DBI::dbDisconnect(con))
  expected <- DBI::dbGetQuery(con, "SELECT g_well, AVG(m_intensities_mean) AS m FROM view_intensities GROUP BY g_well ORDER BY g_well")
  expect_equal(out$m_intensities_mean, expected$m)
})

test_that("an unreachable PostgreSQL server is named", {
  skip_if_not_installed("RPostgres")
  expect_error(postgres_table("cells", host = "127.0.0.1", port = 1L),
               "cannot connect to PostgreSQL at 127.0.0.1:1/postgres")
})
