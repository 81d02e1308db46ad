"""Files written under a temporary name: whole or absent, and with the umask's permissions."""
from __future__ import annotations

import os
import stat

import pytest

from rosetta_stats.common.atomic_files import atomic_path


def test_finished_files_follow_the_umask_and_failures_leave_nothing(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "sub" / "out.csv") as tmp:
            tmp.write_text("a,b\n1,2\n")
        assert stat.S_IMODE((tmp_path / "sub" / "out.csv").stat().st_mode) == 0o644  # mkstemp alone: 0600
        with pytest.raises(RuntimeError):
            with atomic_path(tmp_path / "sub" / "broken.csv") as tmp:
                tmp.write_text("half")
                raise RuntimeError("disk full")
    finally:
        os.umask(old)
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["out.csv"]
