"""Treatment-level paired profiles from the simulator, as the cross-modal tests use them."""
from __future__ import annotations

import rosetta_stats as rs
from rosetta_stats.data.registry import get_dataset


def paired_treatments(**simulation):
    """(PairedProfiles, truth) for a TA-ORF-style simulation; controls marked negcon."""
    sim = rs.simulate_paired(**simulation)
    ds = get_dataset("taorf")
    cp = rs.Profiles.from_frame(sim.cp.assign(control_type=(sim.cp[ds.cp_controls.column]
                                                            .isin(ds.cp_controls.values)
                                                            .map({True: "negcon", False: "trt"}))),
                                "cp", ds.cp_match, ds.cp_plate)
    ge = rs.Profiles.from_frame(sim.ge.assign(control_type=(sim.ge[ds.ge_controls.column]
                                                            .isin(ds.ge_controls.values)
                                                            .map({True: "negcon", False: "trt"}))),
                                "ge", ds.ge_match, ds.ge_plate)
    return rs.pair(rs.treatment_level(cp), rs.treatment_level(ge)), sim.truth
