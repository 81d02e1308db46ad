test_that("the whitened reference rows have identity covariance (tiny regularisation)", {
  wells <- wells_fixture()
  wells$y <- c(2, 1, 4, 3, 6, 5, 9, 1)
  out <- whiten_profiles(wells, c("x", "y"), list(type = "negcon"), regularization_param = 0)
  expect_equal(colnames(out), c("plate", "type", "200814_at", "PC1", "PC2"))
  reference <- as.matrix(out[out$type == "negcon", c("PC1", "PC2")])
  expect_equal(unname(stats::cov(reference)), diag(2), tolerance = 1e-8)
  expect_equal(unname(colMeans(reference)), c(0, 0), tolerance = 1e-10)
})

test_that("it is the hand-computed PCA whitening: centre, rotate, scale by (lambda + eps)^(-1/2)", {
  wells <- wells_fixture()
  wells$y <- c(2, 1, 4, 3, 6, 5, 9, 1)
  eps <- 0.5
  out <- whiten_profiles(wells, c("x", "y"), list(type = "negcon"), regularization_param = eps)
  reference <- as.matrix(wells[wells$type == "negcon", c("x", "y")])
  decomposition <- eigen(stats::cov(reference))
  centred <- sweep(as.matrix(wells[, c("x", "y")]), 2, colMeans(reference))
  expected <- centred %*% decomposition$vectors %*% diag(1 / sqrt(decomposition$values + eps))
  got <- as.matrix(out[, c("PC1", "PC2")])
  # eigenvectors are defined up to sign: compare column by column up to sign
  for (j in 1:2) {
    sign <- if (sum(got[, j] * expected[, j]) < 0) -1 else 1
    expect_equal(unname(got[, j]), unname(sign * expected[, j]), tolerance = 1e-8)
  }
})

test_that("bad arguments are named", {
  expect_error(whiten_profiles(wells_fixture(), "x", list(type = "negcon"), regularization_param = -1),
               "regularization_param")
  expect_error(whiten_profiles(wells_fixture(), "x", list(type = "nothing")), "no control rows")
  expect_error(whiten_profiles(wells_fixture(), "type", list(type = "negcon")), "non-numeric.*type")
})
