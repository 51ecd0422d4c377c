"""Placement on a chain of chips: hand-worked designs and the exact DP against brute force.

Unless a test says otherwise the chips are tiny, so that a handful of layers
spread over several: 2 crossbars per IMA, 2 IMAs per tile, 2 tiles per chip
(8 crossbars of 128 × 128 per chip). Weights are ISAAC's 16 bits in 2-bit
cells, 8 slices packed along the columns: a linear layer ``n → m`` takes
``ceil(n/128) × ceil(8m/128)`` crossbars; a 128 → 128 layer fills a chip.
Activations are 16 bits. Links: ``links_per_chip / 2`` links of
``link_gbps`` GB/s towards each neighbour, in bits per ps
``links/2 × GB/s × 8 / 1000``; with 4 links of 0.0032 GB/s that is
5.12e-5 bits/ps, so 64 bits take 1.25 µs and 2,048 bits take 40 µs. A linear
layer is busy one MVM, 1.6 µs (16 bit-slices × 100 ns).
"""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import pytest
import yaml
from helpers import INSTANCES, MVM, problem_from
from typer.testing import CliRunner

import hitm
from formulations.placement import cut_traffic, link_busy, period
from hitm.budget import Budget
from hitm.cli import app
from hitm.description.load import load_instance
from hitm.hardware import load_hardware
from hitm.movement import copy_crossbars, working_set_bits
from hitm.optimize import solve
from hitm.pipeline import evaluate, verified
from hitm.problem import AllocationProblem, build_problem

SMALL = {
    "interconnect": "isaac",
    "crossbars_per_ima": 2,
    "imas_per_tile": 2,
    "tiles_per_chip": 2,
    "link_gbps": 0.0032,
}
US = 1_000_000  # ps


def linear(name: str, source: str, out: int) -> dict[str, Any]:
    return {"name": name, "op": "linear", "input": source, "out_features": out}


def placed(layers, inputs, chips: int, **hardware: Any) -> AllocationProblem:
    return problem_from(inputs, layers, {**SMALL, **hardware}, budget={"chips": chips})


def design(problem: AllocationProblem, method: str = "bisect"):
    result = solve(problem, method)
    return result, verified(problem, result)


def test_two_chip_chain_whose_link_binds():
    """x (128) → fc1 128 → 128 (8 crossbars) → fc2 128 → 128 (8 crossbars), two chips of 8.

    The only layout: fc1 fills chip 0, fc2 chip 1. The link carries fc1's
    output, 128 × 16 = 2,048 bits, in 2,048 / 5.12e-5 = 40 µs: it binds (the
    stages take 1.6 µs). With ``interconnect: ideal`` the period is 1.6 µs.
    """
    layers = [linear("fc1", "x", 128), linear("fc2", "fc1", 128)]
    problem = placed(layers, {"x": {"shape": [128]}}, chips=2)
    result, metrics = design(problem)
    assert result.bottleneck_ps == metrics.bottleneck_ps == 40 * US
    assert (metrics.bottleneck_kind, metrics.bottleneck_stage) == ("link", "link 0-1")
    assert metrics.cuts == (8,)
    assert metrics.chip_crossbars == (8, 8)
    assert [(link.bits, link.busy_ps) for link in metrics.links] == [(2_048, 40 * US)]
    # Routers (one per chip of 2 tiles): x's 2,048 bits pass chip 0's; fc1's output
    # passes chip 0's and chip 1's: 2,048 + 2 × 2,048 bits at 20.74/256 pJ per bit.
    assert metrics.noc_bits == 6_144
    assert metrics.costs.split_pj["noc"] == pytest.approx(6_144 * 20.74 / 256)
    assert metrics.costs.split_pj["link"] == pytest.approx(2_048 * 26 / 128)
    ideal = placed(layers, {"x": {"shape": [128]}}, chips=2, interconnect="ideal")
    assert ideal.placement is None
    assert design(ideal)[1].bottleneck_ps == MVM


BOTTLENECK = [  # 4 + 1 + 4 + 4 = 13 crossbars on two chips of 8
    linear("fc1", "x", 64),  # 128 → 64: 1 × ceil(512/128) = 4 crossbars, 1,024 bits out
    linear("fc2", "fc1", 4),  # 64 → 4: 1 crossbar, 64 bits out
    linear("fc3", "fc2", 64),  # 4 → 64: 4 crossbars, 1,024 bits out
    linear("fc4", "fc3", 64),  # 64 → 64: 4 crossbars
]


def test_the_cut_moves_to_the_small_activation():
    """fc1 (4) → fc2 (1) → fc3 (4) → fc4 (4): 13 crossbars, two chips of 8.

    Filled in order (the placement-blind baseline), chip 0 takes fc1, fc2 and
    3 of fc3's 4 crossbars, a copy split by output columns: that part reads
    the whole input (64 bits) and 3/4 of fc3's output crosses
    (1,024 × 3/4 = 768 bits): 832 bits, 16.25 µs. Link-aware, the cut falls
    after fc2, where only fc2's 64 bits cross (1.25 µs): the period is the
    stages' 1.6 µs. Chips hold 5 and 8 crossbars.
    """
    problem = placed(BOTTLENECK, {"x": {"shape": [128]}}, chips=2)
    aware, metrics = design(problem)
    assert aware.bottleneck_ps == MVM
    assert metrics.bottleneck_kind == "stage"
    assert metrics.cuts == (5,)
    assert metrics.chip_crossbars == (5, 8)
    assert [(link.bits, link.busy_ps) for link in metrics.links] == [(64, 1_250_000)]
    blind, blind_metrics = design(problem, "greedy")
    assert blind.cuts == (8,)
    assert [(link.bits, link.busy_ps) for link in blind_metrics.links] == [(832, 16_250_000)]
    assert blind.bottleneck_ps == blind_metrics.bottleneck_ps == 16_250_000
    # Scoring the blind copies with the best cuts finds the aware design's period.
    assert evaluate(problem, blind_metrics.copies).bottleneck_ps == MVM


def test_a_skip_connection_crosses_two_links():
    """fc1 → fc2 → fc3, each 128 → 128 (8 crossbars, one chip each), and out = fc3 + fc1.

    Without the skip each link carries one 2,048-bit activation (40 µs). The
    add runs with fc3 on chip 2, so fc1's output also travels to chip 2 over
    both links: 4,096 bits each, 80 µs.
    """
    chain = [linear("fc1", "x", 128), linear("fc2", "fc1", 128), linear("fc3", "fc2", 128)]
    inputs = {"x": {"shape": [128]}}
    plain = design(placed(chain, inputs, chips=3))[1]
    assert [link.bits for link in plain.links] == [2_048, 2_048]
    skip = [*chain, {"name": "out", "op": "add", "inputs": ["fc3", "fc1"]}]
    metrics = design(placed(skip, inputs, chips=3))[1]
    assert metrics.cuts == (8, 16)
    assert [(link.bits, link.busy_ps) for link in metrics.links] == [
        (4_096, 80 * US),
        (4_096, 80 * US),
    ]
    assert metrics.bottleneck_ps == 80 * US


def test_a_stage_split_across_a_boundary():
    """x (1, 16, 16) → conv 3×3 pad 1 to 16 channels (1 crossbar a copy) → fc 4,096 → 4.

    The conv has 256 windows; 12 copies make it ceil(256/12) = 22 MVMs,
    35.2 µs. The fc takes ceil(4096/128) × ceil(32/128) = 32 crossbars: with
    chips of 8 (here 11 chips), 12 + 32 = 44 crossbars. Cuts at the fixed
    positions 8, 16, ..., 40 (stage coordinates): the first falls inside the
    conv after 8 of its 12 copies. It carries the share of the input the 4
    copies beyond it read, 4,096 × 4/12, and the share of the output the 8
    copies before it made, 65,536 × 8/12: 45,056 bits in all (exact). The
    next, at 16, lies inside the fc, a copy split by columns: the part beyond
    it reads the whole input, 65,536 bits; the fc's output is the network's
    and leaves from the chip that makes it, over no link of the chain.
    """
    layers = [
        {"name": "c", "op": "conv2d", "input": "x", "out_channels": 16, "kernel": 3, "padding": 1},
        {"name": "f", "op": "flatten", "input": "c"},
        linear("fc", "f", 4),
    ]
    problem = placed(layers, {"x": {"shape": [1, 16, 16]}}, chips=11)
    assert problem.placement.chips == 11
    cuts = (8, 16, 24, 32, 40, 44, 44, 44, 44, 44)
    metrics = evaluate(problem, {"c": 12, "fc": 1}, cuts=cuts)
    assert metrics.stages[0].busy_ps == 22 * MVM
    bits = [link.bits for link in metrics.links]
    assert bits[0] == 4_096 * 4 / 12 + 65_536 * 8 / 12 == 45_056
    assert bits[1:5] == [65_536] * 4
    assert bits[5:] == [0] * 5  # chips 6 to 10 are empty
    assert metrics.chip_crossbars == (8, 8, 8, 8, 8, 4, 0, 0, 0, 0, 0)
    assert metrics.chips_used == 6
    assert metrics.link_bits == sum(bits)


def test_the_buffer_of_a_window_that_does_not_fit_one_tile():
    """VGG-16's conv1_2 on ISAAC tiles: x (64, 224, 224), 3×3 to 64 channels.

    A copy's working set is the 3 input rows under the window:
    3 × 224 × 64 values × 16 bits = 688,128 bits, more than one tile's eDRAM
    (64 KB = 524,288 bits). Its weights take ceil(576/128) × ceil(512/128) =
    20 crossbars; a crossbar's share of a tile's eDRAM is 524,288 / 96
    bits, so a copy reserves 688,128 × 96 / 524,288 = 126 crossbars (1.3
    tiles), idle but for their buffer. With ``interconnect: ideal`` buffers
    are not modelled and a copy is its 20 crossbars.
    """
    layers = [{"name": "c", "op": "conv2d", "input": "x", "out_channels": 64, "kernel": 3,
               "padding": 1}]  # fmt: skip
    inputs = {"x": {"shape": [64, 224, 224]}}
    problem = problem_from(inputs, layers, {"interconnect": "isaac"}, budget={"chips": 1})
    analysis = problem.analysis
    assert working_set_bits(analysis, "c") == 688_128 > analysis.hardware.edram_bits == 524_288
    assert analysis.layer("c").crossbars == 20
    assert copy_crossbars(analysis, "c") == 126
    # An ISAAC chip's 168 tiles × 96 = 16,128 crossbars hold exactly 128 such copies.
    metrics = design(problem)[1]
    assert metrics.copies["c"] == 128
    assert metrics.crossbars_used == 126 * 128 == 168 * 96
    ideal = problem_from(inputs, layers, {"interconnect": "ideal"}, budget={"chips": 1})
    assert copy_crossbars(ideal.analysis, "c") == 20


def test_the_working_sets_of_linear_recurrent_and_embedding_layers():
    """Tiles of 8 crossbars (2 per IMA, 4 IMAs) with 1 KB of eDRAM: 8,192 bits, 1,024 a crossbar.

    - fc (linear 128 → 8): its input vector, 128 × 16 = 2,048 bits; one crossbar of
      weights (ceil(128/128) × ceil(64/128)), whose share is 1,024 bits: a copy
      reserves 2,048 / 1,024 = 2 crossbars;
    - emb (embedding, vocabulary 10, 6 wide): one row, 6 × 16 = 96 bits, fits its crossbar;
    - gru (input 8, hidden 4, bidirectional): input and hidden state per direction,
      (8 + 4) × 2 × 16 = 384 bits;
    - lstm (input 8, hidden 4): (8 + 4) × 16 = 192 bits.
    """
    hardware = {"interconnect": "isaac", "crossbars_per_ima": 2, "imas_per_tile": 4,
                "edram_kb": 1}  # fmt: skip
    layers = [
        linear("fc", "x", 8),
        {"name": "emb", "op": "embedding", "input": "tok", "vocab": 10, "dim": 6},
        {"name": "gru", "op": "gru", "input": "seq", "hidden": 4, "bidirectional": True},
        {"name": "lstm", "op": "lstm", "input": "seq", "hidden": 4},
    ]
    inputs = {"x": {"shape": [128]}, "tok": {"shape": [1]}, "seq": {"shape": [8], "seq": 3}}
    analysis = problem_from(inputs, layers, hardware).analysis
    assert analysis.hardware.edram_bits == 8_192
    ws = {name: working_set_bits(analysis, name) for name in ("fc", "emb", "gru", "lstm")}
    assert ws == {"fc": 2_048, "emb": 96, "gru": 384, "lstm": 192}
    assert (analysis.layer("fc").crossbars, copy_crossbars(analysis, "fc")) == (1, 2)
    assert copy_crossbars(analysis, "emb") == analysis.layer("emb").crossbars
    ideal = problem_from(inputs, layers, {**hardware, "interconnect": "ideal"}).analysis
    assert copy_crossbars(ideal, "fc") == 1


def test_a_tiles_edram_binds():
    """fc 128 → 128 on an ISAAC chip with a 16-bit eDRAM bus.

    The layer moves 2 bytes × (128 inputs read + 128 outputs written) = 4,096
    bits through eDRAM per inference. A tile's bus carries 16 bits × 1.28 GHz
    = 20.48 bits/ns; the layer's 8 crossbars hold 8/96 of a tile, so 1.7067
    bits/ns: 2,400 ns, longer than its 1.6 µs MVM. More copies cannot help (one
    input vector, ``parallel`` = 1). With ISAAC's 384-bit bus it is 100 ns.
    """
    layers = [linear("fc", "x", 128)]
    inputs = {"x": {"shape": [128]}}
    narrow = problem_from(inputs, layers, {"interconnect": "isaac", "bus_bits": 16})
    metrics = design(narrow)[1]
    assert metrics.bottleneck_ps == 2_400_000
    assert (metrics.bottleneck_kind, metrics.bottleneck_stage) == ("edram", "fc")
    assert metrics.stages[0].edram_ps == 2_400_000
    wide = design(problem_from(inputs, layers, {"interconnect": "isaac"}))[1]
    assert (wide.bottleneck_ps, wide.bottleneck_kind, wide.stages[0].edram_ps) == (
        MVM,
        "stage",
        100_000,
    )


# --- the exact DP against brute force ----------------------------------------------------------


LOOP = [  # 128 channels at 2 × 1 positions, 1 × 1 convolutions: 8 crossbars each
    {"name": "d1", "op": "conv2d", "input": "x", "out_channels": 128, "kernel": 1},
    {"name": "d2", "op": "conv2d", "input": "d1", "out_channels": 128, "kernel": 1},
]


def test_a_decoder_loop_is_cut_anywhere_as_one_block():
    """A two-step loop d1 → d2 → d1 (16 crossbars, larger than a chip of 8), three chips.

    Its options: one copy each (16 crossbars, 2 steps × 2 layers × 2 positions
    × 1.6 µs = 12.8 µs) or two copies of d2 (24 crossbars, 9.6 µs). A cut
    ``q`` crossbars into the block carries the loop's whole input (x: 128 × 2
    × 16 = 4,096 bits) and ``q / x`` of its state: d1 → d2 at both steps and
    d2 → d1 once, 3 × 4,096 = 12,288 bits. With 16 crossbars the last chip
    holds at most 8, so some cut sits at q ≥ 8: 4,096 + 12,288 × 8/16 = 10,240
    bits, 200 µs (5.12e-5 bits/ps), reached with one cut at 8. With 24
    crossbars the cuts are at 8 and 16, the second carrying 4,096 + 12,288 ×
    16/24 = 12,288 bits, 240 µs: the faster loop is the slower design, and the
    placement-blind baseline (the crossbar-only optimum) pays it.
    """
    problem = problem_from(
        {"x": {"shape": [128, 2, 1]}}, LOOP, SMALL, budget={"chips": 3},
        feedback=[{"from": "d2", "to": "d1", "steps": 2}],
    )  # fmt: skip
    (loop,) = problem.stages
    assert loop.busy_ps.tolist() == [12_800_000, 9_600_000]
    assert loop.cost[:, 0].tolist() == [16, 24]
    place = problem.placement
    assert (place.per_copy, place.atomic, place.copies[0].tolist()) == ((0,), (False,), [1, 1])
    assert (int(place.source[0]), int(place.state[0])) == (4_096, 12_288)
    result, metrics = design(problem)
    assert (result.bottleneck_ps, result.cost["crossbars"]) == (200 * US, 16)
    assert metrics.links[0].bits == 10_240 and metrics.bottleneck_kind == "link"
    blind, blind_metrics = design(problem, "greedy")
    assert blind.bottleneck_ps == 240 * US and blind.cost["crossbars"] == 24
    assert [link.bits for link in blind_metrics.links] == [8_192, 12_288]
    for method, backend in (("cpsat", None), ("ilp", "cbc"), ("ilp", "highs")):
        exact = solve(problem, method, backend=backend)
        assert (exact.bottleneck_ps, exact.cost["crossbars"]) == (200 * US, 16), method
        assert verified(problem, exact).bottleneck_ps == 200 * US
        # HiGHS's tolerances cannot always separate 200 µs from 1 ps less: then it says feasible.
        assert exact.status in (("optimal", "feasible") if backend == "highs" else ("optimal",))


def brute(problem: AllocationProblem) -> tuple[int, int] | None:
    """The least (period, crossbars) over every option per stage and every placement."""
    place = problem.placement
    budget = int(problem.capacity[0])
    best = None
    for choice in itertools.product(*(range(s.n_options) for s in problem.stages)):
        xs = [int(s.cost[o, 0]) for s, o in zip(problem.stages, choice, strict=True)]
        total = sum(xs)
        if total > budget:
            continue
        busy = [int(s.busy_ps[o]) for s, o in zip(problem.stages, choice, strict=True)]
        copies = [int(d[o]) for d, o in zip(place.copies, choice, strict=True)]
        for cuts in itertools.combinations_with_replacement(range(total + 1), place.chips - 1):
            try:
                t, _ = period(place, busy, xs, copies, cuts)
            except ValueError:
                continue  # over a chip's capacity, or an atomic stage cut
            if best is None or (t, total) < best:
                best = (t, total)
    return best


def random_problem(rng: random.Random) -> AllocationProblem:
    """2–4 weight layers (convolutions with copies to choose, linear layers, skips), 2–3 chips."""
    rows = rng.choice([16, 32, 32])
    channels, h = rng.choice([1, 2]), rng.choice([4, 6])
    layers: list[dict[str, Any]] = []
    source = "x"
    for i in range(rng.randint(2, 4)):
        if i > 0 and rng.random() < 0.25:
            out = rng.choice([2, 4, 8])
            layers.append({"name": f"f{i}", "op": "flatten", "input": source})
            layers.append({"name": f"c{i}", "op": "linear", "input": f"f{i}", "out_features": out})
            layers.append({"name": f"u{i}", "op": "reshape", "input": f"c{i}",
                           "shape": [out, 1, 1]})  # fmt: skip
            source, channels, h = f"u{i}", out, 1
            continue
        out, k = rng.choice([1, 2, 4]), rng.choice([1, 3])
        layers.append({"name": f"c{i}", "op": "conv2d", "input": source, "out_channels": out,
                       "kernel": k, "padding": k // 2})  # fmt: skip
        if out == channels and source != "x" and rng.random() < 0.5:
            layers.append({"name": f"s{i}", "op": "add", "inputs": [f"c{i}", source]})
            source = f"s{i}"
        else:
            source = f"c{i}"
        channels = out
    hardware = {
        "interconnect": "isaac",
        "rows": rows,
        "cols": rows,
        "crossbars_per_ima": 2,
        "imas_per_tile": 1,
        "tiles_per_chip": 2,
        "link_gbps": rng.choice([0.002, 0.005, 0.02]),
        "edram_kb": rng.choice([1, 64]),
    }
    chips = rng.choice([2, 3])
    budget = {"chips": chips} if rng.random() < 0.7 else {"crossbars": 4 * chips - 1}
    return problem_from({"x": {"shape": [rng.choice([1, 2]), h, h]}}, layers, hardware,
                        budget=budget)  # fmt: skip


@pytest.mark.parametrize("seed", range(60))
def test_bisect_with_placement_matches_brute_force(seed):
    problem = random_problem(random.Random(seed))
    expected = brute(problem)
    result = solve(problem, "bisect")
    if expected is None:
        assert result.choice is None
        return
    assert (result.bottleneck_ps, result.cost["crossbars"]) == expected
    assert verified(problem, result).bottleneck_ps == expected[0]
    blind = solve(problem, "greedy")
    if blind.bottleneck_ps is not None:
        assert blind.bottleneck_ps >= expected[0]


def _period_searches(
    problem: AllocationProblem, vector: bool, monkeypatch, most: int | None = None
) -> list:
    """The period search's final states at every busy value and at periods between them
    (where only the links' cap changes), every option cut one at a time or all at once;
    ``most`` spreads that many periods evenly over them instead."""
    from hitm.optimize import placement as pl

    monkeypatch.setattr(pl, "_VECTOR_OPTIONS", 1 if vector else 10**9)
    place, options = problem.placement, pl._Options(problem)
    values = sorted({int(b) for s in problem.stages for b in s.busy_ps})
    periods = sorted({*values, *((a + b) // 2 for a, b in itertools.pairwise(values))})
    if most is not None:
        periods = periods[:: max(1, len(periods) // most)]
    found = []
    for t in periods:
        candidates, columns = options.at(t)
        final = pl._search(place, candidates, pl._cap(place, t), False, columns=columns)
        found.append(
            [(n.chip, n.fill, n.crossbars, n.end, pl._reconstruct(n, place.chips)) for n in final]
        )
    return found


@pytest.mark.parametrize("seed", range(40))
def test_cutting_every_option_at_once_keeps_the_same_states(seed, monkeypatch):
    """The period search cuts a stage for all its options at once (numpy) and keeps, per
    number of cuts, what pruning would keep: the same final states and designs as
    cutting one option at a time, at every period."""
    problem = random_problem(random.Random(1000 + seed))
    assert _period_searches(problem, True, monkeypatch) == _period_searches(
        problem, False, monkeypatch
    )


@pytest.mark.parametrize(("name", "chips"), [("nic_vgg16", 16), ("sat", 8)])
def test_cutting_every_option_at_once_on_the_zoo(name, chips, monkeypatch):
    """The same on two zoo networks whose stages hold hundreds of options."""
    hw = load_hardware({"preset": "isaac", "interconnect": "isaac"})
    problem = build_problem(hitm.analyze(load_instance(INSTANCES / f"{name}.yaml").network, hw),
                            Budget(chips=chips))  # fmt: skip
    from hitm.optimize import placement as pl

    options = pl._Options(problem)
    candidates, _ = options.at(max(int(s.busy_ps[0]) for s in problem.stages))
    assert max(len(c) for c in candidates) > 100
    vector = _period_searches(problem, True, monkeypatch, most=24)
    assert vector == _period_searches(problem, False, monkeypatch, most=24)
    assert any(vector) and not all(vector)  # feasible and infeasible periods both tried


# --- what the user sees -------------------------------------------------------------------------


def _cli_instance(tmp_path, interconnect: str):
    doc = {
        "network": {"inputs": {"x": {"shape": [128]}}, "layers": BOTTLENECK},
        "hardware": {**SMALL, "interconnect": interconnect},
        "budget": {"chips": 2},
    }
    path = tmp_path / f"{interconnect}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_solve_reports_chips_links_and_what_binds(tmp_path):
    """The BOTTLENECK network of the test above, from the command line: tables, then JSON."""
    path = _cli_instance(tmp_path, "isaac")
    result = CliRunner().invoke(app, ["solve", str(path), "-m", "bisect"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "placement: period set by stage" in result.stdout
    assert "fc1 … fc2 (2)" in result.stdout  # chip 0 holds fc1 and fc2
    assert "1.25 µs" in result.stdout  # the link's busy time
    doc = json.loads(CliRunner().invoke(app, ["solve", str(path), "-m", "bisect", "--json"]).stdout)
    assert doc["bottleneck_kind"] == "stage"
    place = doc["placement"]
    assert place["cuts"] == [5]
    assert [c["crossbars"] for c in place["chips"]] == [5, 8]
    assert place["chips"][1]["stages"] == ["fc3", "fc4"]
    assert place["links"] == [{"link": "0-1", "cut": 5, "bits": 64.0, "busy_ps": 1_250_000}]
    assert doc["energy"]["split_pj"]["link"] > 0
    blind = CliRunner().invoke(app, ["solve", str(path), "-m", "greedy", "--json"])
    assert json.loads(blind.stdout)["bottleneck_kind"] == "link"


def test_ideal_reports_no_placement(tmp_path):
    path = _cli_instance(tmp_path, "ideal")
    result = CliRunner().invoke(app, ["solve", str(path), "--json"])
    doc = json.loads(result.stdout)
    assert "placement" not in doc
    assert doc["bottleneck_kind"] == "stage"
    assert "link" not in doc["energy"]["split_pj"]
    tables = CliRunner().invoke(app, ["solve", str(path)], env={"COLUMNS": "200"}).stdout
    assert "placement:" not in tables


def test_pareto_refuses_data_movement_in_one_line(tmp_path):
    result = CliRunner().invoke(app, ["pareto", str(_cli_instance(tmp_path, "isaac"))])
    assert result.exit_code == 2
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in result.output
    assert message.startswith("error: hardware.interconnect: the frontier does not model")


def test_a_sweep_over_the_interconnect_places_each_budget():
    """ideal vs isaac in one sweep: ideal rows from the staircase, isaac rows from the placed DP."""

    spec = {
        "networks": ["s2vt"],
        "hardware": {"axes": {"interconnect": ["ideal", "isaac"]}},
        "budgets": {"chips": [8, 16]},
        "methods": ["dp"],
    }
    frame = hitm.sweep(spec).set_index(["interconnect", "budget_chips"])
    inst = load_instance(INSTANCES / "s2vt.yaml")
    for interconnect in ("ideal", "isaac"):
        hw = load_hardware({"preset": "isaac", "interconnect": interconnect})
        analysis = hitm.analyze(inst.network, hw)
        for chips in (8, 16):
            result = solve(build_problem(analysis, Budget(chips=chips)), "dp")
            assert frame.loc[(interconnect, chips), "bottleneck_ps"] == result.bottleneck_ps
    assert frame.loc[("isaac", 16), "bottleneck_ps"] > frame.loc[("ideal", 16), "bottleneck_ps"]


def test_the_interconnect_flag_overrides_the_file():
    """captioner.yaml has no interconnect (ideal); --interconnect isaac places it on its chip."""
    path = str(INSTANCES / "captioner.yaml")
    plain = json.loads(CliRunner().invoke(app, ["solve", path, "--json"]).stdout)
    assert "placement" not in plain
    result = CliRunner().invoke(app, ["solve", path, "--json", "--interconnect", "isaac"])
    placed = json.loads(result.stdout)
    assert placed["placement"]["cuts"] == []  # one chip: no links
    assert placed["bottleneck_ps"] >= plain["bottleneck_ps"]
    bad = CliRunner().invoke(app, ["solve", path, "--interconnect", "ring"])
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr.strip() == "error: --interconnect: expected ideal or isaac, got 'ring'"


def test_compare_places_with_every_method_and_they_agree():
    """AlexNet on two ISAAC chips: every method places, the proven optima agree on (T, crossbars)."""
    out = CliRunner().invoke(
        app, ["compare", str(INSTANCES / "alexnet.yaml"), "--chips", "2",
              "--interconnect", "isaac", "--json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["agree"] is True
    proven = {
        (r["bottleneck_ps"], r["crossbars_used"])
        for r in doc["results"]
        if r["status"] == "optimal"
    }
    methods = {r["method"] for r in doc["results"] if r["status"] == "optimal"}
    assert {"dp", "bisect", "cpsat", "ilp"} <= methods
    assert len(proven) == 1
    assert all(len(r["cuts"]) == 1 for r in doc["results"] if r["status"] == "optimal")


# --------------------------------------------------------------------------- a ring of chips


def test_a_ring_sends_the_skip_connection_the_other_way_round():
    """The skip network above (fc1, fc2, fc3 on chips 0, 1, 2; out = fc3 + fc1) on a ring.

    On the chain each link carries 4,096 bits (80 µs). On a ring of three chips
    fc1's output for the add goes backward, 0 → 2 over the wrap link (one hop):
    each forward link carries 2,048 bits and the wrap 2,048: 40 µs. A chain
    with twice the bandwidth takes 4,096 / 2 bits per 40 µs too, so the design
    is proven optimal. Links carry 3 × 2,048 bits (chain: 2 × 4,096).
    """
    skip = [
        linear("fc1", "x", 128),
        linear("fc2", "fc1", 128),
        linear("fc3", "fc2", 128),
        {"name": "out", "op": "add", "inputs": ["fc3", "fc1"]},
    ]
    inputs = {"x": {"shape": [128]}}
    result, metrics = design(placed(skip, inputs, chips=3, topology="ring"))
    assert result.status == "optimal" and result.bound_ps == 40 * US
    assert result.bottleneck_ps == metrics.bottleneck_ps == 40 * US
    assert metrics.cuts == (8, 16)
    assert [(link.name, link.bits, link.back_bits, link.busy_ps) for link in metrics.links] == [
        ("link 0-1", 2_048, 0, 40 * US),
        ("link 1-2", 2_048, 0, 40 * US),
        ("link 2-0", 2_048, 0, 40 * US),
    ]
    assert metrics.link_bits == 6_144
    chain = design(placed(skip, inputs, chips=3))[1]
    assert chain.link_bits == 8_192 and chain.bottleneck_ps == 80 * US


def test_a_ring_of_two_chips_splits_the_activation_both_ways():
    """fc1 → fc2 (8 crossbars each) on two chips: the chain's link carries 2,048 bits, 40 µs.

    On a ring of two the wrap link is a second path between the same chips:
    1,024 bits each way, 20 µs, the bound of a chain with twice the bandwidth.
    """
    layers = [linear("fc1", "x", 128), linear("fc2", "fc1", 128)]
    for method in ("dp", "bisect", "cpsat", "ilp"):
        result, metrics = design(
            placed(layers, {"x": {"shape": [128]}}, 2, topology="ring"), method
        )
        assert (result.status, result.bottleneck_ps, result.bound_ps) == (
            "optimal",
            20 * US,
            20 * US,
        )
        assert [(link.bits, link.busy_ps) for link in metrics.links] == [(1_024, 20 * US)] * 2


def test_ring_designs_from_the_command_line(tmp_path):
    """The BOTTLENECK network on a ring: its table gains the back column and the wrap row."""
    path = _cli_instance(tmp_path, "isaac")
    args = ["solve", str(path), "-m", "bisect", "--topology", "ring"]
    tables = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert tables.exit_code == 0, tables.output
    assert "← back" in tables.stdout and "(round the ring to chip 0)" in tables.stdout
    doc = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
    assert doc["placement"]["topology"] == "ring"
    assert [link["link"] for link in doc["placement"]["links"]] == ["0-1", "1-0"]
    assert all("back_bits" in link for link in doc["placement"]["links"])
    chain = json.loads(CliRunner().invoke(app, [*args[:-2], "--json"]).stdout)
    assert chain["placement"]["topology"] == "chain"
    assert doc["bottleneck_ps"] <= chain["bottleneck_ps"]
    ideal = CliRunner().invoke(app, ["solve", str(_cli_instance(tmp_path, "ideal")), *args[2:]])
    assert ideal.exit_code == 2 and ideal.stdout == ""
    assert ideal.stderr.strip() == (
        "error: --topology ring: data moves free with interconnect: ideal; add --interconnect isaac"
    )
    one = CliRunner().invoke(
        app, ["solve", str(INSTANCES / "captioner.yaml"), "--json", "--interconnect", "isaac",
              "--topology", "ring"],
    )  # fmt: skip
    one_chip = json.loads(one.stdout)["placement"]  # one chip: no links, still a ring
    assert (one_chip["topology"], one_chip["links"]) == ("ring", [])
    bad = CliRunner().invoke(app, [*args[:-1], "torus"])
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr.strip() == "error: --topology: expected chain or ring, got 'torus'"


@pytest.mark.parametrize(("name", "chips"), [("vqa", 8), ("sat", 16)])
def test_ring_designs_on_the_zoo_are_checked_and_bounded(name, chips):
    """Every method's ring design re-scored by the model, at most its chain period, above the bound."""
    inst = load_instance(INSTANCES / f"{name}.yaml")
    rows = {}
    for topology in ("chain", "ring"):
        hw = load_hardware({"preset": "isaac", "interconnect": "isaac", "topology": topology})
        problem = build_problem(hitm.analyze(inst.network, hw), Budget(chips=chips))
        for method in ("bisect", "greedy"):
            result, metrics = design(problem, method)
            rows[topology, method] = result
            assert metrics.bottleneck_ps == result.bottleneck_ps
    for method in ("bisect", "greedy"):
        assert rows["ring", method].bottleneck_ps <= rows["chain", method].bottleneck_ps
    ring = rows["ring", "bisect"]
    assert ring.bound_ps <= ring.bottleneck_ps
    assert (ring.status == "optimal") == (ring.bound_ps == ring.bottleneck_ps)


@pytest.mark.parametrize("seed", range(20))
def test_the_searchs_period_is_the_models(seed):
    """The placed search prices its designs from its own traffic figures: at every cut
    position of random designs that equals formulations.placement.period."""
    from hitm.optimize import placement as pl

    rng = random.Random(5000 + seed)
    problem = random_problem(rng)
    place = problem.placement
    figures = pl._Cuts.of(place)
    for _ in range(20):
        choice = [rng.randrange(s.n_options) for s in problem.stages]
        busy, crossbars, copies = pl.layout(problem, choice)
        total = sum(crossbars)
        for _ in range(5):
            cuts = sorted(rng.randint(0, total) for _ in range(place.chips - 1))
            links = [link_busy(place, cut_traffic(place, crossbars, copies, q)) for q in cuts]
            expected = max([*busy, *links])
            assert figures.period(place, busy, crossbars, copies, cuts) == expected
