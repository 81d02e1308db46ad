library(testthat)
library(rosettabridge)

test_check("rosettabridge")
