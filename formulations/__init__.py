"""Exact solvers for the min-max multiple-choice knapsack on plain integer arrays.

Stage ``s`` offers options with integer busy times ``busy[s]`` and resource costs
``cost[s]``; pick one option per stage within ``capacity`` to minimise the
bottleneck ``max_s busy``, then the total cost of one ``secondary`` resource.
Nothing here knows about DNNs.  See ``README.md`` for the models.
"""

from formulations.cpsat import solve_cpsat
from formulations.ilp import available_backends, solve_ilp
from formulations.result import FormulationResult

__all__ = ["FormulationResult", "available_backends", "solve_cpsat", "solve_ilp"]
