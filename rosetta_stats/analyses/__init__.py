"""Analyses that combine statistics: the fair comparison of the two assays."""
