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


R_MODULES = ("tests/bridge/", "tests/results/", "tests/test_readme.py", "tests/test_vignettes.py")


def pytest_collection_modifyitems(config, items):
    """``r``: a test that needs R (it asks for the R session, or lives where everything does); ``slow`` is
    set in the modules themselves. ``make test-fast`` runs ``-m "not slow"``."""
    for item in items:
        where = item.nodeid.replace("\\", "/")
        if "r_session" in getattr(item, "fixturenames", ()) or where.startswith(R_MODULES):
            item.add_marker(pytest.mark.r)
