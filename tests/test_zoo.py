"""The multi-modal zoo: every instance loads, analyzes and solves at its default budget.

Each zoo file states its source, its assumptions, the crossbars one copy of
every layer needs and its default budget in whole ISAAC chips; these tests keep
those statements true. The pinned optima are this model's answers (dp and bisect
agree on them and prove them; ``hitm compare`` checks the MIP/CP solvers too).
"""

from __future__ import annotations

import functools
import re

import pytest
from helpers import INSTANCES

from hitm.analysis import analyze
from hitm.description.load import Instance, load_instance
from hitm.optimize import solve
from hitm.pipeline import evaluate, unlimited_copies, verify
from hitm.problem import AllocationProblem, build_problem

# name: (naive crossbars, default chips, optimal bottleneck ps, its crossbars,
#        unlimited-resource bottleneck ps)
ZOO = {
    "nic": (18_362, 2, 232_000_000, 32_156, 66_000_000),
    "nic_vgg16": (73_616, 8, 209_600_000, 127_864, 66_000_000),
    "s2vt": (117_224, 16, 5_169_600_000, 258_000, 96_000_000),
    "lrcn_caption": (48_565, 4, 98_000_000, 53_191, 98_000_000),
    "lrcn_activity": (31_962, 4, 481_600_000, 63_186, 25_600_000),
    "vqa": (74_742, 8, 270_400_000, 129_014, 41_600_000),
    "sat": (27_557, 4, 358_400_000, 64_425, 226_000_000),
}


@functools.cache
def load(name: str) -> tuple[Instance, AllocationProblem]:
    inst = load_instance(INSTANCES / f"{name}.yaml")
    return inst, build_problem(analyze(inst.network, inst.hardware), inst.budget)


def header(name: str) -> str:
    text = (INSTANCES / f"{name}.yaml").read_text(encoding="utf-8")
    lines = [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")]
    return " ".join(lines)  # one paragraph: figures may wrap across comment lines


@pytest.mark.parametrize("name", sorted(ZOO))
def test_budget_is_whole_chips_with_headroom(name):
    inst, problem = load(name)
    naive, chips, *_ = ZOO[name]
    assert (inst.budget.chips, inst.budget.crossbars) == (chips, None)
    assert int(problem.naive_cost()[0]) == naive
    assert problem.shortfall() == {}
    assert naive <= 0.95 * int(problem.capacity[0])


@pytest.mark.parametrize("name", sorted(ZOO))
def test_header_states_source_and_figures(name):
    naive, chips, best, *_ = ZOO[name]
    text = header(name)
    assert re.search(r"\((?:[^()]*\d{4}[^()]*)\)", text), "cite a published source (year)"
    assert "Assumption" in text or "Modelling choices" in text or "How it is written" in text
    assert f"{naive:,} crossbars" in text
    assert f"default budget of {chips} chips" in text
    if best < 1_000_000_000:
        assert f"{best / 1e6:g} µs" in text
    else:
        assert f"{best / 1e9:.2f} ms" in text


@pytest.mark.parametrize("name", sorted(ZOO))
def test_dp_and_bisect_agree_and_prove(name):
    _, problem = load(name)
    *_, best, used, _ = ZOO[name]
    results = [solve(problem, method) for method in ("dp", "bisect")]
    for r in results:
        assert r.status == "optimal"
        metrics = verify(problem, r)  # rescored by the pipeline model, budget checked
        assert (metrics.bottleneck_ps, metrics.crossbars_used) == (best, used)


@pytest.mark.parametrize("name", sorted(ZOO))
def test_unlimited_bottleneck(name):
    _, problem = load(name)
    assert evaluate(problem, unlimited_copies(problem)).bottleneck_ps == ZOO[name][-1]


def test_exact_solvers_agree_on_lrcn_caption():
    """The one zoo instance small enough for CP-SAT and the MILP in a unit test."""
    _, problem = load("lrcn_caption")
    for method, backend in (("cpsat", "highs"), ("ilp", "highs"), ("ilp", "cbc")):
        r = solve(problem, method, time_limit=10, backend=backend)
        assert r.status == "optimal", (method, backend, r.status)
        assert (r.bottleneck_ps, r.cost["crossbars"]) == (98_000_000, 53_191)


@pytest.mark.parametrize(
    ("name", "loop", "members"),
    [
        ("nic", "loop:embed..word", {"embed", "lstm", "logits"}),
        ("lrcn_caption", "loop:embed..word", {"embed", "lstm1", "lstm2", "predict"}),
        ("s2vt", "loop:embed..word", {"embed", "lstm2_dec", "predict"}),
        (
            "sat",
            "loop:h_prev..lstm",
            {"att_h", "att_score", "sel", "logit_lstm", "logit_ctx", "logits", "embed", "lstm"},
        ),
    ],
)
def test_decoder_loops(name, loop, members):
    """The weight layers each decoder step runs form one 20-step composite stage."""
    inst, problem = load(name)
    (found,) = inst.network.loops
    assert (found.name, found.steps) == (loop, 20)
    weights = {x.name for x in problem.analysis.weight_layers if x.loop == loop}
    assert weights == members
