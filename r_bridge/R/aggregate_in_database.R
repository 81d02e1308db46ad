# Aggregation inside a database as one SQL statement.
#
# cytominer::aggregate() on a lazy table asks dplyr/dbplyr to translate the
# summary of every variable separately; that translation costs about 30 ms
# per variable in R (a 1,700-feature table spends ~50 s before the database
# sees a query), while the database needs milliseconds. The translation is
# the same for every variable up to its name, so here dbplyr translates
# cytominer's expression for each operation once -- `mean(x, na.rm = TRUE)`,
# `MEDIAN(x)`, ... exactly as cytominer writes them -- and the statement
# applies it to every variable: one GROUP BY over the population's own query.
# The tests check the result against cytominer::aggregate() itself.
aggregate_in_database <- function(population, variables, strata, operations, count_column = NULL) {
  con <- dbplyr::remote_con(population)
  token <- "rosetta_column_"
  quoted_token <- as.character(DBI::dbQuoteIdentifier(con, token))
  expressions <- vapply(operations, function(op) {
    call <- if (op == "median") rlang::call2("MEDIAN", rlang::sym(token)) else
      rlang::call2(op, rlang::sym(token), na.rm = TRUE)
    as.character(dbplyr::translate_sql(!!call, con = con, window = FALSE))
  }, character(1))
  quote_id <- function(x) as.character(DBI::dbQuoteIdentifier(con, x))
  # cytominer's column order: operation by operation, every variable within each
  outputs <- unlist(lapply(seq_along(operations), function(i) {
    names <- if (length(operations) > 1) paste0(variables, "_", operations[[i]]) else variables
    paste0(vapply(variables, function(v) gsub(quoted_token, quote_id(v), expressions[[i]], fixed = TRUE),
                  character(1)), " AS ", quote_id(names))
  }))
  groups <- paste(quote_id(strata), collapse = ", ")
  if (!is.null(count_column)) outputs <- c(paste0("CAST(COUNT(*) AS INTEGER) AS ", quote_id(count_column)), outputs)
  source <- as.character(dbplyr::sql_render(population))
  statement <- paste0("SELECT ", groups, ", ", paste(outputs, collapse = ", "),
                      " FROM (", source, ") AS rosetta_population GROUP BY ", groups)
  result <- DBI::dbGetQuery(con, statement)
  tibble::as_tibble(result, .name_repair = "minimal")
}

# Normalisation inside a database as one SQL statement: every variable minus
# its stratum's location, divided by its dispersion (cytominer's
# standardize/robustize), with the parameters sent along as a VALUES table.
# cytominer::normalize() on a lazy table nests one dbplyr step per variable,
# which overflows R's C stack at a few hundred features; the tests check this
# statement against cytominer::normalize() itself.
normalize_in_database <- function(population, variables, strata, parameters) {
  con <- dbplyr::remote_con(population)
  quote_id <- function(x) as.character(DBI::dbQuoteIdentifier(con, x))
  keys <- unique(as.data.frame(parameters)[, strata, drop = FALSE])
  index <- seq_along(variables)
  rows <- vapply(seq_len(nrow(keys)), function(r) {
    here <- parameters
    for (s in strata) here <- here[here[[s]] == keys[[s]][r], , drop = FALSE]
    here <- here[match(variables, here$variable), ]
    values <- c(vapply(strata, function(s) as.character(DBI::dbQuoteLiteral(con, keys[[s]][r])), ""),
                sprintf("%.17g", here$location), sprintf("%.17g", here$dispersion))
    paste0("(", paste(gsub("^NA$", "NULL", values), collapse = ", "), ")")
  }, character(1))
  names <- c(strata, paste0("rosetta_location_", index), paste0("rosetta_dispersion_", index))
  all_columns <- colnames(population)
  kept <- setdiff(all_columns, variables)
  select <- c(paste0("pop.", quote_id(kept)),
              paste0("(pop.", quote_id(variables), " - par.", quote_id(paste0("rosetta_location_", index)),
                     ") / par.", quote_id(paste0("rosetta_dispersion_", index)), " AS ", quote_id(variables)))
  order <- match(all_columns[all_columns %in% c(kept, variables)], c(kept, variables))
  join <- paste(paste0("pop.", quote_id(strata), " = par.", quote_id(strata)), collapse = " AND ")
  statement <- paste0(
    "WITH par(", paste(quote_id(names), collapse = ", "), ") AS (VALUES ", paste(rows, collapse = ", "), ") ",
    "SELECT ", paste(select[order], collapse = ", "),
    " FROM (", as.character(dbplyr::sql_render(population)), ") AS pop JOIN par ON ", join)
  tibble::as_tibble(DBI::dbGetQuery(con, statement), .name_repair = "minimal")
}
