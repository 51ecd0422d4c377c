"""How solve time grows with the number of layers and with the budget, per method.

Run from the repository root:  python bench/scaling.py [--time-limit 30]
Writes bench/results/scaling.csv, scaling.md and scaling.png. About 10 minutes
on 2 cores.

Networks: synthetic chains of 10 to 1,000 weight layers (seeded, so every run
builds the same ones): half 3×3 convolutions on a 16-frame 8×64×64 clip
(8, 16 or 32 output channels, a 2×2 max-pool after each quarter of them,
so their parallel work is 65,536, 16,384, 4,096 or 1,024 MVMs), then, shuffled,
linears (64, 128 or 256 outputs; 3/10 of the layers) and LSTMs (hidden 16, 32
or 64, 16 steps; 1/5). One copy of every layer fits one ISAAC chip at every
length, so every budget of 1 to 64 chips is feasible; layer sizes do not scale
with the budget.

Methods: dp, bisect, greedy, cpsat, ilp (HiGHS) and ilp (CBC), each timed
through ``hitm.solve`` (cpsat and ilp include the bisection they are warm-started
from) with a per-solve time limit. A method that runs out of time is skipped
on longer chains at the same budget (time need not grow with the budget: a
tight budget is the harder knapsack).
Every allocation is checked by ``hitm.verify``; exact methods that prove an
optimum must agree with each other, else the run stops with exit code 1.
Growth orders are the slopes of log-log least-squares fits of time against
layers (at a fixed budget) and against budget (at a fixed length), over the
points solved.
"""

from __future__ import annotations

import argparse
import csv
import math
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence

import numpy as np
import plots
from common import RESULTS, environment_lines, markdown_table

from hitm import (
    AllocationProblem,
    Budget,
    SolveResult,
    analyze,
    build_problem,
    parse_instance,
    solve,
    verify,
)
from hitm.errors import HitmError
from hitm.optimize import variants

LAYERS = (10, 30, 100, 300, 1000)
CHIPS = (1, 2, 4, 8, 16, 32, 64)
PLOT_CHIPS = 4  # the budget of the plot's time-versus-layers panel
PLOT_LAYERS = (300, 1000)  # the lengths of its time-versus-budget panels
RUNS = tuple(variants())
FRAMES = 16
GRACE, GRACE_S = 2, 10  # a time-limited solve still running at 2 × limit + 10 s is killed
SEED = 2020


def label(method: str, backend: str | None) -> str:
    """The method's label as ``SolveResult.label`` writes it (``ilp:highs``)."""
    return f"{method}:{backend}" if backend else str(method)


def chain(n_layers: int, seed: int = SEED) -> dict[str, object]:
    """A synthetic chain of ``n_layers`` weight layers, as an instance document.

    Parameters
    ----------
    n_layers
        Weight layers: half convolutions, 3/10 linears, the rest LSTMs.
    seed
        With ``n_layers``, seeds the sizes, so each length is always the same chain.

    Returns
    -------
    dict
        A document for :func:`hitm.parse_instance` (ISAAC, no budget).
    """
    rng = np.random.default_rng([seed, n_layers])
    n_conv = n_layers // 2
    n_lstm = n_layers // 5
    n_linear = n_layers - n_conv - n_lstm
    pools = {n_conv * q // 4 for q in (1, 2, 3)} - {0}
    layers: list[dict[str, object]] = []
    prev = "frames"
    for i in range(n_conv):
        if i in pools:
            layers.append({"name": f"pool{i}", "op": "maxpool", "input": prev, "kernel": 2})
            prev = f"pool{i}"
        channels = int(rng.choice([8, 16, 32]))
        layers.append(
            {
                "name": f"conv{i}",
                "op": "conv2d",
                "input": prev,
                "out_channels": channels,
                "kernel": 3,
                "padding": 1,
            }
        )
        prev = f"conv{i}"
    layers.append({"name": "gap", "op": "global_avgpool", "input": prev})
    layers.append({"name": "flat", "op": "flatten", "input": "gap"})
    prev = "flat"
    kinds = ["linear"] * n_linear + ["lstm"] * n_lstm
    rng.shuffle(kinds)
    for i, kind in enumerate(kinds):
        if kind == "linear":
            size = int(rng.choice([64, 128, 256]))
            layers.append({"name": f"fc{i}", "op": "linear", "input": prev, "out_features": size})
            prev = f"fc{i}"
        else:
            size = int(rng.choice([16, 32, 64]))
            layers.append({"name": f"lstm{i}", "op": "lstm", "input": prev, "hidden": size})
            prev = f"lstm{i}"
    return {
        "name": f"chain{n_layers}",
        "network": {
            "inputs": {"frames": {"shape": [8, 64, 64], "seq": FRAMES}},
            "layers": layers,
        },
        "hardware": {"preset": "isaac"},
    }


def solved(method: str, status: str) -> bool:
    """Whether a point counts as solved: proven optimal, or any design for greedy."""
    return status == "optimal" or (status == "feasible" and method == "greedy")


def hit_limit(method: str, status: str) -> bool:
    """Whether a method ran out of time: no design, no proof (exact methods), or killed."""
    return status in ("timeout", "killed") or (status == "feasible" and method != "greedy")


class Disagreement(Exception):
    """Two exact methods proved different optima: a bug."""


def timed(
    problem: AllocationProblem, method: str, backend: str | None, time_limit: float
) -> tuple[SolveResult | None, float]:
    """Solve and time; the fastest of three runs for methods quicker than a second.

    The time-limited methods (cpsat, ilp) run in a child process that is
    killed, with any solver process it started, at ``GRACE × time_limit +
    GRACE_S`` seconds, since a MILP solver may overrun its own limit.

    Returns
    -------
    tuple
        The :class:`hitm.SolveResult` (None if the solve was killed) and its
        wall seconds (the kill time if killed).
    """
    if method in ("cpsat", "ilp"):
        result, wall = _guarded(problem, method, backend, time_limit)
    else:
        result, wall = _timed_solve(problem, method, backend, time_limit)
        for _ in range(2 if wall < 1.0 else 0):
            again, again_wall = _timed_solve(problem, method, backend, time_limit)
            if again_wall < wall:
                result, wall = again, again_wall
    if result is not None:
        verify(problem, result)
    return result, wall


def _timed_solve(
    problem: AllocationProblem, method: str, backend: str | None, time_limit: float
) -> tuple[SolveResult, float]:
    t0 = time.perf_counter()
    result = solve(problem, method, time_limit, backend=backend)
    return result, time.perf_counter() - t0


def _child(conn, problem: AllocationProblem, method: str, backend: str | None, limit: float) -> None:
    os.setpgid(0, 0)  # its own process group, so a kill also reaches the CBC binary
    conn.send(_timed_solve(problem, method, backend, limit))
    conn.close()


def _guarded(
    problem: AllocationProblem, method: str, backend: str | None, time_limit: float
) -> tuple[SolveResult | None, float]:
    ctx = multiprocessing.get_context("fork")  # the child inherits the built problem
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, problem, method, backend, time_limit))
    deadline = GRACE * time_limit + GRACE_S
    proc.start()
    send.close()
    if receive.poll(deadline):
        result, wall = receive.recv()
        proc.join()
        return result, wall
    os.killpg(proc.pid, signal.SIGKILL)
    proc.join()
    return None, deadline


def skip_reason(
    method: str,
    history: Mapping[tuple[int, int], tuple[str, float | None]],
    n_layers: int,
    chips: int,
    time_limit: float,
) -> str:
    """Why a method should not run at (``n_layers``, ``chips``), or an empty string.

    Parameters
    ----------
    method
        The method's label.
    history
        The method's earlier (layers, chips) → (status, seconds).
    n_layers, chips
        The point about to run.
    time_limit
        The per-solve limit.
    """
    # Time grows with the chain's length at a fixed budget, but not always with the
    # budget (a tight budget is the harder knapsack): skip along the length only, and
    # only after a real timeout (a prediction from smaller chains once skipped a
    # 1,000-layer point HiGHS then proved in about a second).
    for (n0, c0), (status, _) in history.items():
        if hit_limit(method, status) and c0 == chips and n0 <= n_layers:
            return f"timed out at {n0} layers"
    return ""


def fit_order(points: Sequence[tuple[float, float]]) -> float | None:
    """Slope of the least-squares line through (log x, log seconds); None under 3 points."""
    if len(points) < 3:
        return None
    x = np.log([p[0] for p in points])
    y = np.log([p[1] for p in points])
    return float(np.polyfit(x, y, 1)[0])


def growth_table(
    rows: Sequence[Mapping[str, object]], axis: str, fixed_key: str, fixed_values: Sequence[int]
) -> list[list[str]]:
    """Growth order of every method against ``axis`` at each fixed value of the other.

    Each cell: the least-squares slope over every point solved, the slope
    between the two largest, and (in brackets) the number of points.
    """
    out = []
    for run in RUNS:
        name = label(*run)
        cells = [name]
        for value in fixed_values:
            pts = sorted(
                (float(r[axis]), float(r["seconds"]))
                for r in rows
                if r["method"] == name and r[fixed_key] == value and solved(name, str(r["status"]))
            )
            k = fit_order(pts)
            if k is None:
                cells.append("–")
                continue
            (x0, t0), (x1, t1) = pts[-2:]
            cells.append(f"{k:.2f} / {math.log(t1 / t0) / math.log(x1 / x0):.2f} ({len(pts)})")
        out.append(cells)
    return out


def limits_table(rows: Sequence[Mapping[str, object]]) -> list[list[str]]:
    """Per method: the largest point solved, and where it timed out, erred or was skipped."""
    out = []
    for run in RUNS:
        name = label(*run)
        mine = [r for r in rows if r["method"] == name]
        done = [r for r in mine if solved(name, str(r["status"]))]
        big = max(done, key=lambda r: (r["layers"], r["chips"]), default=None)
        slowest = max(done, key=lambda r: float(r["seconds"]), default=None)
        failed = sorted(
            {f"{r['layers']}×{r['chips']} {r['status']}" for r in mine if r not in done},
            key=lambda s: tuple(int(v) for v in s.split()[0].split("×")),
        )
        statuses = sorted({str(r["status"]) for r in done})
        out.append(
            [
                name,
                f"{len(done)} of {len(mine)}",
                "/".join(statuses),
                ""
                if big is None
                else f"{big['layers']} layers, {big['chips']} chips: {float(big['seconds']):.3g} s",
                ""
                if slowest is None
                else f"{float(slowest['seconds']):.3g} s ({slowest['layers']} layers, {slowest['chips']} chips)",
                ", ".join(failed) if failed else "none",
            ]
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per solve")
    parser.add_argument("--layers", type=int, nargs="+", default=list(LAYERS), help="chain lengths")
    parser.add_argument("--chips", type=int, nargs="+", default=list(CHIPS), help="budgets")
    args = parser.parse_args()
    limit = args.time_limit
    start = time.perf_counter()
    rows: list[dict[str, object]] = []
    history: dict[str, dict[tuple[int, int], tuple[str, float | None]]] = {
        label(*run): {} for run in RUNS
    }
    try:
        for n_layers in sorted(args.layers):
            inst = parse_instance(chain(n_layers))
            analysis = analyze(inst.network, inst.hardware)
            naive = sum(layer.crossbars for layer in analysis.weight_layers)
            for chips in sorted(args.chips):
                problem = build_problem(analysis, Budget(chips=chips))
                optima: dict[tuple[int | None, int | None], str] = {}
                for method, backend in RUNS:
                    name = label(method, backend)
                    reason = skip_reason(name, history[name], n_layers, chips, limit)
                    result, wall = None, None
                    if not reason:
                        result, wall = timed(problem, method, backend, limit)
                        status = "killed" if result is None else result.status
                        if status == "optimal":
                            optima[(result.bottleneck_ps, result.crossbars_used)] = name
                        history[name][(n_layers, chips)] = (status, wall)
                    rows.append(
                        {
                            "layers": n_layers,
                            "chips": chips,
                            "budget_crossbars": problem.capacity[0],
                            "naive_crossbars": naive,
                            "stages": len(problem.stages),
                            "options": problem.n_options,
                            "method": name,
                            "status": "skipped" if reason else status,
                            "bottleneck_ps": "" if result is None else result.bottleneck_ps,
                            "crossbars": "" if result is None else result.crossbars_used,
                            "seconds": "" if wall is None else f"{wall:.4f}",
                            "note": reason
                            or (result.message if result else "")
                            or (f"killed after {wall:.0f} s" if status == "killed" else ""),
                            "time_limit_s": limit,
                        }
                    )
                if len(optima) > 1:
                    raise Disagreement(
                        f"{n_layers} layers, {chips} chips: exact optima differ: {optima}"
                    )
                done = [r for r in rows if r["layers"] == n_layers and r["chips"] == chips]
                print(
                    f"{n_layers:>5} layers {chips:>3} chips: "
                    + ", ".join(f"{r['method']} {r['status']} {r['seconds']}" for r in done)
                    + f"  [{time.perf_counter() - start:.0f} s]",
                    file=sys.stderr,
                )
    except (Disagreement, HitmError) as exc:
        print(f"scaling.py: results not trusted, nothing written: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "scaling.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    write_markdown(rows, limit, seconds)
    plots.scaling_plot(
        [{k: str(v) for k, v in r.items()} for r in rows],
        PLOT_CHIPS,
        PLOT_LAYERS,
        limit,
        RESULTS / "scaling.png",
    )
    print(f"done in {seconds:.0f} s; see {RESULTS / 'scaling.md'}", file=sys.stderr)
    return 0


def write_markdown(rows: Sequence[Mapping[str, object]], limit: float, seconds: float) -> None:
    """Write bench/results/scaling.md: sizes, growth orders, limits and every time."""
    sizes = {}
    for r in rows:
        sizes.setdefault(r["layers"], (r["naive_crossbars"], r["stages"], set()))[2].add(
            (r["chips"], r["options"])
        )
    size_rows = [
        [
            str(n),
            f"{naive:,}",
            str(stages),
            ", ".join(f"{o:,}" for _, o in sorted(opts)),
        ]
        for n, (naive, stages, opts) in sizes.items()
    ]
    layers = sorted({int(r["layers"]) for r in rows})
    chips = sorted({int(r["chips"]) for r in rows})
    grid_header = ["layers", "chips", *(label(*run) for run in RUNS)]
    grid = []
    for n in layers:
        for c in chips:
            cells = [str(n), str(c)]
            for run in RUNS:
                r = next(
                    r
                    for r in rows
                    if r["layers"] == n and r["chips"] == c and r["method"] == label(*run)
                )
                cells.append(
                    f"{float(r['seconds']):.3g} s"
                    + ("" if r["status"] == "optimal" else f" {r['status']}")
                    if r["seconds"]
                    else str(r["status"])
                )
            grid.append(cells)
    text = [
        "# Solver scaling on synthetic chains",
        "",
        f"Command: `{' '.join(['python bench/scaling.py', *sys.argv[1:]])}` ({seconds / 60:.1f} min on this machine)",
        "",
        *environment_lines(),
        "",
        "Chains as described in bench/scaling.py (seeded); ISAAC chips of 16,128 crossbars. "
        "Times are wall seconds of `hitm.solve` (cpsat and ilp include the bisection warm start); "
        f"per-solve limit {limit:g} s. `timeout`: no design within the limit; `feasible` "
        "(cpsat, ilp): a design but no proof within the limit; `killed`: still running at "
        f"{GRACE} × the limit + {GRACE_S} s (the solver overran its own limit); `error`: the "
        "method refused (the DP's table over its size limit); `skipped`: it ran out of time "
        "on a shorter chain at the same budget. Plot: [scaling.png](scaling.png).",
        "",
        "## Problem sizes",
        "",
        markdown_table(
            ["layers", "naive crossbars", "stages", "options at 1, 2, …, 64 chips"], size_rows
        ),
        "",
        "## Growth order: time ∝ layers^k at a fixed budget",
        "",
        "Each cell: k from a log-log least-squares fit over every point solved / k between "
        "the two largest points solved (the number of points in brackets). Fixed overheads "
        "(model building, the CBC process) flatten the fit at small sizes; the second figure "
        "is the better guide for extrapolating.",
        "",
        markdown_table(
            ["method", *(f"{c} chips" for c in chips)],
            growth_table(rows, "layers", "chips", chips),
        ),
        "",
        "## Growth order: time ∝ budget^k at a fixed length",
        "",
        markdown_table(
            ["method", *(f"{n} layers" for n in layers)],
            growth_table(rows, "chips", "layers", layers),
        ),
        "",
        "## Where each method stops",
        "",
        markdown_table(
            [
                "method",
                "points solved",
                "statuses",
                "largest solved",
                "slowest solved",
                "not solved",
            ],
            limits_table(rows),
        ),
        "",
        "## Every time",
        "",
        markdown_table(grid_header, grid),
        "",
    ]
    (RESULTS / "scaling.md").write_text("\n".join(text))


if __name__ == "__main__":
    sys.exit(main())
