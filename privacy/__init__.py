"""The privacy engine: bounded aggregates in, noisy consistent releases with error bars out.

This package imports neither FastAPI nor DuckDB. It takes plain values (integer aggregates
over public keys plus the per-pupil bounds SQL applied) and returns noisy, post-processed
results, charging a budget ledger through a narrow interface that `service/` implements.
"""

from privacy.accuracy import (
    AccuracyError,
    CellInterval,
    RatioInterval,
    cell_interval,
    ratio_interval,
    ratio_interval_for_plans,
)
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

# privacy.audit (empirical ε lower bounds) is a verification tool, not part of the release
# path, and is imported on its own: `from privacy.audit import audit`.
__all__ = [
    "AccuracyError",
    "AggregateRangeError",
    "AllocationError",
    "BoundSpec",
    "BoundSpecError",
    "BudgetError",
    "BudgetValueError",
    "CanonicalFormError",
    "CellInterval",
    "DEFAULT_DELTA",
    "ForbiddenFeatureError",
    "LevelDemand",
    "MechanismError",
    "NegativeBudgetError",
    "NoisePlan",
    "PlanMismatchError",
    "RatioInterval",
    "Rho",
    "Sensitivity",
    "add_noise",
    "canonical_json",
    "cell_interval",
    "plan_gaussian",
    "plan_laplace",
    "predict",
    "ratio_interval",
    "ratio_interval_for_plans",
    "request_hash",
    "rho_for_half_width",
    "sensitivity",
    "split_budget",
]
