"""Results folders for R and Python users: CSV + RDS + manifest, written atomically and read back verified."""
