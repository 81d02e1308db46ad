"""Shared fixtures: the real data beside the checkout, and R availability."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_file(relative: str) -> Path:
    """A file under ../shared, or skip the test naming the missing file."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"real-data file not present: ../shared/{relative}")
    return path


@pytest.fixture(scope="session")
def r_session():
    """The R backend; skipped outside CI when R is missing, an error inside CI."""
    from rosetta_stats.bridge import cytominer

    try:
        session = cytominer.RSession.get()
        session.bridge
        return session
    except cytominer.RBackendUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def lincs_plate_path():
    return shared_file("data/lincs_cp_plate_SQ00015054.csv.gz")


@pytest.fixture(scope="session")
def taorf_l1k_path():
    return shared_file("data/taorf_l1k_replicate_level.csv.gz")
