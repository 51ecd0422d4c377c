"""The speed targets bench/scaling.py does not reach: 10,000-layer chains and design mode.

Run from the repository root:  python bench/targets.py [--time-limit 30]

On bench/scaling.py's synthetic chains (``chain``), in one process (imports
excluded, each figure the least of ``REPEATS`` runs where a run is short):

- 10,000 layers: reading and analysing the chain, building its problem at 8 and
  64 chips, and the DP and bisection at each (targets: bisect ≤ 0.5 s);
- the same chain with 100 crossbars (infeasible): every method's answer, which
  must be ``infeasible`` (target: under a second each);
- design mode (ADCs per crossbar 1, 2, 4 or 8 as well as copies) on chains of 100,
  300 and 1,000 layers at 4 chips, without and with a power cap (all but 5% of
  the 4 chips' provisioned power): building the problem (target: ≤ 1 s at 1,000
  layers), and CP-SAT and HiGHS proving it (target: ≤ 30 s at 1,000 layers; every
  proof must agree with the others on (bottleneck, crossbars)).

Writes results/targets.md. Run it on a quiet machine: it measures wall time.
About 3 minutes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from common import environment_lines, markdown_table, progress, write_result
from scaling import chain

from hitm import analyze, build_problem, parse_instance, solve
from hitm.budget import Budget, DesignSpace
from hitm.frontier import resource_cap
from hitm.optimize import variants

REPEATS = 3


def least(run: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, Any]:
    """The least wall seconds of ``repeats`` calls, and the last call's value."""
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = run()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per exact solve")
    args = parser.parse_args()
    start = time.perf_counter()
    large: list[list[str]] = []
    seconds, inst = least(lambda: parse_instance(chain(10_000), default_name="chain"), 1)
    large.append(["read the 10,000-layer chain", "", f"{seconds:.3f}", ""])
    seconds, analysis = least(lambda: analyze(inst.network, inst.hardware))
    large.append(["analyse it", "", f"{seconds:.3f}", ""])
    for chips in (8, 64):  # 8: the fewest whole chips holding it
        seconds, problem = least(lambda c=chips: build_problem(analysis, Budget(chips=c)))
        large.append(["build the problem", f"{chips} chips", f"{seconds:.3f}", ""])
        for method in ("bisect", "dp"):
            seconds, result = least(lambda m=method, p=problem: solve(p, m))
            target = (
                "≤ 0.5 s: " + ("met" if seconds <= 0.5 else "missed") if method == "bisect" else ""
            )
            large.append([method, f"{chips} chips: {result.status}", f"{seconds:.3f}", target])
        progress(f"10,000 layers, {chips} chips")
    _, tight = least(lambda: build_problem(analysis, Budget(crossbars=100)), 1)
    for method, backend in variants():
        label = f"{method}:{backend}" if backend else str(method)
        seconds, result = least(lambda m=method, b=backend: solve(tight, m, 10, backend=b))
        ok = result.status == "infeasible" and seconds < 1
        large.append([label, f"100 crossbars: {result.status}", f"{seconds:.4f}",
                      "< 1 s: " + ("met" if ok else "missed")])  # fmt: skip
    progress("10,000 layers, infeasible")
    design: list[list[str]] = []
    for n_layers in (100, 300, 1_000):
        inst = parse_instance(chain(n_layers))
        analysis = analyze(inst.network, inst.hardware)
        space = DesignSpace()
        cap_uw = resource_cap(analysis, Budget(chips=4), "power")
        cap_um2 = resource_cap(analysis, Budget(chips=4), "area")
        for label, budget in (
            ("4 chips", Budget(chips=4)),
            ("4 chips, 95% of their power", Budget(chips=4, power_w=cap_uw * 0.95 / 1e6)),
            (
                "4 chips, 95% of their power and area",  # three budgeted resources
                Budget(chips=4, power_w=cap_uw * 0.95 / 1e6, area_mm2=cap_um2 * 0.95 / 1e6),
            ),
        ):
            seconds, problem = least(
                lambda b=budget, a=analysis, d=space: build_problem(a, b, design=d)
            )
            target = (
                ("≤ 1 s: " + ("met" if seconds <= 1 else "missed")) if n_layers == 1_000 else ""
            )
            design.append([f"{n_layers:,}", label, "build", "", f"{seconds:.3f}", target])
            proofs = set()
            for method, backend in (("cpsat", None), ("ilp", "highs")):
                t0 = time.perf_counter()
                result = solve(problem, method, args.time_limit, backend=backend)
                wall = time.perf_counter() - t0
                if result.status == "optimal":
                    proofs.add((result.bottleneck_ps, result.crossbars_used))
                target = ""
                if n_layers == 1_000:
                    met = result.status == "optimal" and wall <= 30
                    target = "≤ 30 s: " + ("met" if met else "missed")
                name = f"{method}:{backend}" if backend else method
                design.append([f"{n_layers:,}", label, name, result.status, f"{wall:.2f}", target])
            if len(proofs) > 1:
                progress(f"targets.py: proofs disagree at {n_layers} layers, {label}: {proofs}")
                return 1
            progress(f"design mode, {n_layers} layers, {label}")
    text = [
        "# Speed targets: 10,000-layer chains and design mode",
        "",
        f"Command: `python bench/targets.py` ({(time.perf_counter() - start) / 60:.1f} min on "
        "this machine); bench/scaling.py's synthetic chains; wall seconds in one process "
        f"(imports excluded), the least of {REPEATS} runs for the short ones.",
        "",
        *environment_lines(),
        "",
        "## 10,000 layers",
        "",
        markdown_table(["step", "budget", "seconds", "target"], large),
        "",
        "## Design mode (ADCs per crossbar 1, 2, 4 or 8)",
        "",
        f"Exact solves with a {args.time_limit:g} s limit; every proof agreed with the others.",
        "",
        markdown_table(["layers", "budget", "step", "status", "seconds", "target"], design),
        "",
    ]
    write_result("targets.md", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
