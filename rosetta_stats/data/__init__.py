"""Data: the Rosetta registry, downloads, reading, controls, cleaning, treatment level, pairing, simulators."""
