"""Every generated or mutated input keeps README's promises (see campaign.py)."""

from __future__ import annotations

from campaign import CASES, ApiCase, Case, run_case
from hypothesis import HealthCheck, given, settings


@settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(CASES)
def test_every_call_keeps_the_promises(case: Case | ApiCase) -> None:
    """Exit 0/2/3/4, no traceback or hang, one error line and no stdout on failure,
    and every design that succeeds re-checked against its budget."""
    outcome = run_case(case)
    what = case.args if isinstance(case, Case) else (case.verb, case.method)
    assert not outcome.problems, (what, outcome.problems)
