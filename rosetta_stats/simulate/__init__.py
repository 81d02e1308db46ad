"""Simulators: single cells, paired profiles, and files laid out like the Rosetta release."""
