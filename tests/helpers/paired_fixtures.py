"""Treatment-level paired profiles from the simulator, as the cross-modal tests use them."""
from __future__ import annotations

import rosetta_stats as rs


def paired_treatments(**simulation):
    """(PairedProfiles, truth) for a TA-ORF-style simulation; controls found by the registry's rules."""
    sim = rs.simulate_paired(**simulation)
    cp, ge = sim.to_profiles()
    return rs.pair(rs.treatment_level(cp), rs.treatment_level(ge)), sim.truth
