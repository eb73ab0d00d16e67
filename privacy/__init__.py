"""The privacy engine: bounded aggregates in, noisy consistent releases with error bars out.

This package imports neither FastAPI nor DuckDB. It takes plain values (integer aggregates
over public keys plus the per-pupil bounds SQL applied) and returns noisy, post-processed
results, charging a budget ledger through a narrow interface that `service/` implements.
"""

from privacy.bounds import BoundSpec, BoundSpecError, Sensitivity, sensitivity
from privacy.budget import (
    DEFAULT_DELTA,
    BudgetError,
    BudgetValueError,
    NegativeBudgetError,
    Rho,
)
from privacy.mechanisms import (
    AggregateRangeError,
    MechanismError,
    NoisePlan,
    PlanMismatchError,
    add_noise,
    plan_gaussian,
    plan_laplace,
    rho_for_half_width,
)
from privacy.opendp_setup import ForbiddenFeatureError
from privacy.planner import AllocationError, LevelDemand, predict, split_budget
from privacy.request import CanonicalFormError, canonical_json, request_hash
from privacy.statistics import (
    RankRanges,
    RatioEstimates,
    StatisticsError,
    count_intervals,
    difference,
    rank_ranges,
    ratio_intervals,
    verdict,
)

# privacy.audit (empirical ε lower bounds) is a verification tool, not part of the release
# path, and is imported on its own: `from privacy.audit import audit`.
__all__ = [
    "AggregateRangeError",
    "AllocationError",
    "BoundSpec",
    "BoundSpecError",
    "BudgetError",
    "BudgetValueError",
    "CanonicalFormError",
    "DEFAULT_DELTA",
    "ForbiddenFeatureError",
    "LevelDemand",
    "MechanismError",
    "NegativeBudgetError",
    "NoisePlan",
    "PlanMismatchError",
    "RankRanges",
    "RatioEstimates",
    "Rho",
    "Sensitivity",
    "StatisticsError",
    "add_noise",
    "canonical_json",
    "count_intervals",
    "difference",
    "plan_gaussian",
    "plan_laplace",
    "predict",
    "rank_ranges",
    "ratio_intervals",
    "request_hash",
    "rho_for_half_width",
    "sensitivity",
    "split_budget",
    "verdict",
]
