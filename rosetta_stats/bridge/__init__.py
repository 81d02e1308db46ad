"""The bridge to R: cytominer verbs, database tables and RDS files (the only code that imports rpy2)."""
