"""Hydraulics: EPANET 2.2 (the solver WNTR ships) stepped through WNTR's toolkit, pressure-dependent.

Why not ``wntr.sim.WNTRSimulator``: 90 days of Net3 take ~35 s and of ky4 ~4 min with it; the same run
stepped through EPANET takes 1–12 s. The physics is the same: EPANET 2.2's pressure-driven analysis
(``PDA``, minimum 0 m, required ``required_pressure_m``, exponent 0.5) and leaks as emitters. WNTR's
leak model is ``Q = Cd · A · sqrt(2 g h)``; an EPANET emitter is ``Q = C · p^0.5``; so a WNTR leak of
area ``A`` is the emitter ``C = Cd · A · sqrt(2 g)`` (exponent 0.5). The equivalence is tested against
``WNTRSimulator`` with ``add_leak`` (tests/sim/test_hydraulics.py). Here the coefficient can change at
every step, so leaks start, stop and grow (incipient leaks) as WNTR's ``leak_area`` would.

Time: hydraulics run at ``step_s`` (15 min by default; 1 h for big networks); the demand of every zone
junction over a step is the mean of its consumers' 1-minute draws over that step (exact volume). EPANET
inserts intermediate steps at control and tank events; results are time-weighted means per step, so
volumes integrate exactly. Units inside: the INP is written in LPS (flows L/s, pressures m).
"""

from __future__ import annotations

import ctypes
import math
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import wntr  # type: ignore[import-untyped,unused-ignore]
from numpy.typing import NDArray
from wntr.epanet.toolkit import ENepanet  # type: ignore[import-untyped,unused-ignore]

from gmina.sim.networks import WaterNetworkModel

F64 = NDArray[np.float64]
G = 9.81
DISCHARGE_COEFF = 0.75  # WNTR's default leak discharge coefficient
EN_BASEDEMAND, EN_EMITTER, EN_PRESSURE, EN_FLOW = 1, 3, 11, 8
CONST_PATTERN = "gmina_const"


class HydraulicsError(RuntimeError):
    """EPANET refused the network or failed to solve a step."""


def emitter_coefficient_lps(area_m2: F64 | float) -> F64:
    """EPANET emitter coefficient (L/s per m^0.5) of a WNTR leak of ``area_m2`` (Cd 0.75, exponent 0.5)."""
    return np.asarray(1000.0 * DISCHARGE_COEFF * np.asarray(area_m2) * math.sqrt(2 * G), dtype=np.float64)


def leak_area_m2(flow_lps: float, pressure_m: float) -> float:
    """Orifice area that leaks ``flow_lps`` at ``pressure_m`` under WNTR's leak equation."""
    return flow_lps / 1000.0 / (DISCHARGE_COEFF * math.sqrt(2 * G * max(pressure_m, 1.0)))


def add_leak_node(wn: WaterNetworkModel, pipe: str, node: str) -> None:
    """Split ``pipe`` in the middle with a new junction ``node`` where a leak will open (in place)."""
    wntr.morph.split_pipe(wn, pipe, f"{pipe}__{node}", node, return_copy=False)


@dataclass
class HydraulicResult:
    """Step means (index: step ``k`` covers ``[k·step_s, (k+1)·step_s)`` seconds from the start)."""

    step_s: int
    link_flow_lps: F64  # (links, steps), in each link's start → end direction
    pressure_m: F64  # (pressure nodes, steps)
    leak_lps: F64  # (leak nodes, steps), emitter outflow
    solver_steps: int


class EpanetRun:
    """One EPANET project opened from ``wn``; junction demands and emitters are driven step by step."""

    def __init__(self, wn: WaterNetworkModel, duration_s: int, step_s: int, required_pressure_m: float) -> None:
        wn.options.hydraulic.demand_model = "PDD"
        wn.options.hydraulic.minimum_pressure = 0.0
        wn.options.hydraulic.required_pressure = required_pressure_m
        wn.options.hydraulic.pressure_exponent = 0.5
        wn.options.hydraulic.emitter_exponent = 0.5
        wn.options.hydraulic.demand_multiplier = 1.0
        wn.options.quality.parameter = "NONE"
        if CONST_PATTERN not in wn.pattern_name_list:
            wn.add_pattern(CONST_PATTERN, [1.0])
        wn.options.hydraulic.pattern = CONST_PATTERN
        wn.options.time.duration = duration_s
        wn.options.time.hydraulic_timestep = step_s
        wn.options.time.pattern_timestep = step_s
        wn.options.time.report_timestep = step_s
        wn.options.time.report_start = 0
        wn.options.time.pattern_start = 0
        wn.options.time.start_clocktime = 0
        self._dir = tempfile.TemporaryDirectory(prefix="gmina-sim-")
        folder = Path(self._dir.name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wntr.network.io.write_inpfile(wn, str(folder / "net.inp"), units="LPS")
        self.en = ENepanet(version=2.2)
        try:
            self.en.ENopen(str(folder / "net.inp"), str(folder / "net.rpt"), str(folder / "net.bin"))
        except Exception as exc:
            raise HydraulicsError(f"EPANET cannot open the network: {exc}") from exc
        self.lib = self.en.ENlib
        self.project = self.en._project
        self.duration_s = duration_s
        self.step_s = step_s

    def node_index(self, name: str) -> int:
        return int(self.en.ENgetnodeindex(name))

    def link_index(self, name: str) -> int:
        return int(self.en.ENgetlinkindex(name))

    def close(self) -> None:
        self.en.ENclose()
        self._dir.cleanup()

    def _call(self, code: int) -> None:
        if code > 100:
            raise HydraulicsError(f"EPANET error {code}")

    def run(
        self,
        junctions: Sequence[str],
        demand_lps: F64,
        links: Sequence[str],
        pressure_nodes: Sequence[str],
        leak_nodes: Sequence[str],
        emitter_lps: F64,
    ) -> HydraulicResult:
        """Run the whole period; ``demand_lps`` (junctions, steps) and ``emitter_lps`` (leaks, steps)."""
        n_steps = -(-self.duration_s // self.step_s)
        j_index = [self.node_index(j) for j in junctions]
        l_index = [self.link_index(k) for k in links]
        p_index = [self.node_index(n) for n in pressure_nodes]
        k_index = [self.node_index(n) for n in leak_nodes]
        flows = np.zeros((len(links), n_steps))
        pressures = np.zeros((len(pressure_nodes), n_steps))
        leaks = np.zeros((len(leak_nodes), n_steps))
        lib, project = self.lib, self.project
        value, t, dt = ctypes.c_double(), ctypes.c_long(), ctypes.c_long()
        current = -1
        solver_steps = 0
        self._call(lib.EN_openH(project))
        self._call(lib.EN_initH(project, 0))
        time_s = 0
        try:
            while True:
                step = min(time_s // self.step_s, n_steps - 1)
                if step != current:
                    for i, q in zip(j_index, demand_lps[:, step].tolist(), strict=True):
                        lib.EN_setnodevalue(project, i, EN_BASEDEMAND, ctypes.c_double(q))
                    for i, c in zip(k_index, emitter_lps[:, step].tolist(), strict=True):
                        lib.EN_setnodevalue(project, i, EN_EMITTER, ctypes.c_double(c))
                    current = step
                self._call(lib.EN_runH(project, ctypes.byref(t)))
                time_s = t.value
                self._call(lib.EN_nextH(project, ctypes.byref(dt)))
                solver_steps += 1
                width = min(dt.value, self.duration_s - time_s)
                if width > 0:
                    b = min(time_s // self.step_s, n_steps - 1)
                    for row, i in enumerate(l_index):
                        lib.EN_getlinkvalue(project, i, EN_FLOW, ctypes.byref(value))
                        flows[row, b] += value.value * width
                    for row, i in enumerate(p_index):
                        lib.EN_getnodevalue(project, i, EN_PRESSURE, ctypes.byref(value))
                        pressures[row, b] += value.value * width
                    for row, i in enumerate(k_index):  # the emitter law; EN_DEMAND is stale once C = 0
                        lib.EN_getnodevalue(project, i, EN_PRESSURE, ctypes.byref(value))
                        leaks[row, b] += emitter_lps[row, current] * math.sqrt(max(value.value, 0.0)) * width
                if dt.value <= 0:
                    break
                time_s += dt.value
        finally:
            lib.EN_closeH(project)
        widths = np.full(n_steps, float(self.step_s))
        widths[-1] = self.duration_s - (n_steps - 1) * self.step_s
        return HydraulicResult(self.step_s, flows / widths, pressures / widths, leaks / widths, solver_steps)


def mean_pressures(
    wn: WaterNetworkModel, junctions: Sequence[str], demand_lps: F64, required_pressure_m: float
) -> dict[str, float]:
    """Mean pressure (m) of ``junctions`` over one day at constant mean demands (sizing leaks, sensors)."""
    epanet = EpanetRun(wn, 86_400, 3600, required_pressure_m)
    try:
        steps = np.repeat(demand_lps[:, None], 24, axis=1)
        result = epanet.run(junctions, steps, [], junctions, [], np.zeros((0, 24)))
    finally:
        epanet.close()
    return {j: float(p) for j, p in zip(junctions, result.pressure_m.mean(axis=1), strict=True)}
