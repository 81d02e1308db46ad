frame <- data.frame(well = c("A", "B", "C", "D"), x = c(1, 2, 3, 4),
                    y = c(2, 4, 6, 8.1), z = c(5, 5, 5, 5), w = c(1, NA, NA, 2))

test_that("variance_threshold drops the constant column", {
  out <- select_variables(frame, c("x", "y", "z"), operation = "variance_threshold")
  expect_equal(colnames(out), c("well", "x", "y", "w"))
  expect_equal(attr(out, "dropped")$variable, "z")
})

test_that("correlation_threshold keeps one of a correlated pair", {
  out <- select_variables(frame, c("x", "y"), operation = "correlation_threshold")
  expect_equal(sum(c("x", "y") %in% colnames(out)), 1)
  expect_error(select_variables(frame, c("x", "z"), operation = "correlation_threshold"),
               "constant or missing: z")
})

test_that("drop_na_columns drops the column with missing values", {
  out <- select_variables(frame, c("x", "w"), operation = "drop_na_columns", cutoff = 0.1)
  expect_equal(attr(out, "dropped")$variable, "w")
})

test_that("the database path collects the selected columns", {
  path <- sqlite_fixture(frame, "f")
  out <- select_variables(sqlite_table(path, "f"), c("x", "y", "z"))
  expect_equal(colnames(out), c("well", "x", "y", "w"))
  expect_equal(nrow(out), 4)
})

test_that("unknown operation lists the choices", {
  expect_error(select_variables(frame, "x", operation = "pca"),
               "choose one of: variance_threshold, correlation_threshold, drop_na_columns")
})
