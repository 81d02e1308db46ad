test_that("frames survive the trip to parts and back with their names", {
  wells <- wells_fixture()
  parts <- bridge_parts(wells, c("x", "200814_at"))
  expect_equal(parts$variables, c("x", "200814_at"))
  expect_equal(dim(parts$values), c(8L, 2L))
  back <- bridge_frame(parts$metadata, parts$values, parts$variables)
  expect_equal(back, wells)
})

test_that("bridge_call returns errors and warnings instead of raising", {
  ok <- bridge_call(function(a) { warning("careful"); a + 1 }, list(a = 1))
  expect_equal(ok$value, 2)
  expect_equal(ok$warnings, "careful")
  expect_length(ok$error, 0)
  bad <- bridge_call(function() stop("broken"), list())
  expect_equal(bad$error, "broken")
})
