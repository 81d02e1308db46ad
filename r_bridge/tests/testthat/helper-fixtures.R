# Tiny, hand-checkable fixtures.
wells_fixture <- function() {
  data.frame(
    plate = rep(c("P1", "P2"), each = 4),
    type = rep(c("negcon", "negcon", "trt", "trt"), 2),
    x = c(1, 3, 5, 7, 10, 14, 20, 30),
    `200814_at` = c(2, 4, 6, 8, 1, 1, 2, 3),
    check.names = FALSE,
    stringsAsFactors = FALSE
  )
}

# A SQLite copy of a data frame in a temporary file, removed after the test.
sqlite_fixture <- function(frame, table = "wells", env = parent.frame()) {
  path <- withr::local_tempfile(fileext = ".sqlite", .local_envir = env)
  con <- DBI::dbConnect(RSQLite::SQLite(), path)
  DBI::dbWriteTable(con, table, frame)
  DBI::dbDisconnect(con)
  path
}
