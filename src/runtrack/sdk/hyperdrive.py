"""HyperDrive (Azure ML v1 sweeps): parameter expressions, samplings, early-termination
policies and :class:`HyperDriveConfig`, submitted with ``Experiment.submit``.

The sweep is a parent run (type ``hyperdrive``) with one child script run per trial; each
trial gets its hyperparameters as ``--name value`` arguments after the script's own. The
sweep is driven by the submitting process (:mod:`runtrack.sdk._sweep`): it starts trials up
to ``max_concurrent_runs``, applies the policy to the primary metric as trials report it,
and ends the parent when every trial has ended. Bayesian sampling uses Optuna's TPE
(``pip install 'runtrack[sweep]'``).
"""

from __future__ import annotations

import enum
import itertools
import math
import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runtrack.errors import InvalidTypeError, InvalidValueError

__all__ = [
    "BanditPolicy", "BayesianParameterSampling", "GridParameterSampling", "HyperDriveConfig",
    "MedianStoppingPolicy", "NoTerminationPolicy", "PrimaryMetricGoal",
    "RandomParameterSampling", "TruncationSelectionPolicy", "choice", "loguniform", "normal",
    "qloguniform", "quniform", "randint", "uniform",
]


class PrimaryMetricGoal(str, enum.Enum):
    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"


# -- parameter expressions --------------------------------------------------------------------


@dataclass(frozen=True)
class _Expression:
    kind: str
    args: tuple[Any, ...]

    def sample(self, rng: random.Random) -> Any:
        a = self.args
        if self.kind == "choice":
            return rng.choice(a)
        if self.kind == "randint":
            return rng.randrange(a[0])
        if self.kind == "uniform":
            return rng.uniform(a[0], a[1])
        if self.kind == "quniform":
            return round(rng.uniform(a[0], a[1]) / a[2]) * a[2]
        if self.kind == "loguniform":
            return math.exp(rng.uniform(a[0], a[1]))
        if self.kind == "qloguniform":
            return round(math.exp(rng.uniform(a[0], a[1])) / a[2]) * a[2]
        return rng.gauss(a[0], a[1])  # normal


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTypeError(f"{what} must be a number, got {value!r}")
    return float(value)


def choice(*options: Any) -> _Expression:
    """One of ``options`` (``choice(1, 2)``, ``choice([1, 2])`` or ``choice(range(3))``)."""
    nested = len(options) == 1 and isinstance(options[0], (list, tuple, range))
    values = list(options[0]) if nested else list(options)
    if not values:
        raise InvalidValueError("choice() needs at least one option")
    return _Expression("choice", tuple(values))


def randint(upper: int) -> _Expression:
    """An integer in ``[0, upper)``."""
    if isinstance(upper, bool) or not isinstance(upper, int) or upper < 1:
        raise InvalidValueError(f"randint(upper) needs an integer upper >= 1, got {upper!r}")
    return _Expression("randint", (upper,))


def _bounds(kind: str, low: Any, high: Any, *rest: Any) -> _Expression:
    lo, hi = _number(low, f"{kind} min_value"), _number(high, f"{kind} max_value")
    if lo > hi:
        raise InvalidValueError(f"{kind}({low!r}, {high!r}): min_value is above max_value")
    return _Expression(kind, (lo, hi, *(_number(r, f"{kind} q") for r in rest)))


def uniform(min_value: float, max_value: float) -> _Expression:
    return _bounds("uniform", min_value, max_value)


def quniform(min_value: float, max_value: float, q: float) -> _Expression:
    return _bounds("quniform", min_value, max_value, q)


def loguniform(min_value: float, max_value: float) -> _Expression:
    """``exp(uniform(min_value, max_value))``, as Azure defines it."""
    return _bounds("loguniform", min_value, max_value)


def qloguniform(min_value: float, max_value: float, q: float) -> _Expression:
    return _bounds("qloguniform", min_value, max_value, q)


def normal(mu: float, sigma: float) -> _Expression:
    return _Expression("normal", (_number(mu, "normal mu"), _number(sigma, "normal sigma")))


# -- samplings ---------------------------------------------------------------------------------


def _space(parameter_space: Mapping[str, Any]) -> dict[str, _Expression]:
    if not isinstance(parameter_space, Mapping) or not parameter_space:
        raise InvalidValueError("a parameter space is a non-empty dict of name -> expression")
    out = {}
    for name, expr in parameter_space.items():
        key = str(name).lstrip("-")
        if not isinstance(expr, _Expression):
            raise InvalidTypeError(
                f"parameter {name!r} must be choice(), uniform(), … from runtrack.sdk.hyperdrive;"
                f" got {expr!r}"
            )
        out[key] = expr
    return out


class _Sampling:
    """Hands out parameter sets; told each finished trial's result."""

    def __init__(self, parameter_space: Mapping[str, Any]) -> None:
        self.space = _space(parameter_space)

    def start(self, goal: PrimaryMetricGoal, max_total: int) -> None:
        """Called once before the first ``next``."""

    def next(self) -> tuple[Any, dict[str, Any]] | None:
        """``(token, parameters)`` of the next trial, or None when exhausted."""
        raise NotImplementedError

    def tell(self, token: Any, value: float | None) -> None:
        """The result of the trial started with ``token`` (None: no metric)."""


class GridParameterSampling(_Sampling):
    """Every combination of ``choice`` values."""

    def __init__(self, parameter_space: Mapping[str, Any]) -> None:
        super().__init__(parameter_space)
        bad = [k for k, e in self.space.items() if e.kind != "choice"]
        if bad:
            raise InvalidValueError(f"grid sampling takes only choice() parameters; not {bad}")
        self._grid = iter(itertools.product(*(e.args for e in self.space.values())))

    def next(self) -> tuple[Any, dict[str, Any]] | None:
        combo = next(self._grid, None)
        return None if combo is None else (None, dict(zip(self.space, combo, strict=True)))


class RandomParameterSampling(_Sampling):
    """Independent random draws; ``properties={"rndseed": 7}`` (or ``seed=7``) repeats them."""

    def __init__(self, parameter_space: Mapping[str, Any],
                 properties: Mapping[str, Any] | None = None, seed: int | None = None) -> None:
        super().__init__(parameter_space)
        seed = seed if seed is not None else (properties or {}).get("rndseed")
        self._rng = random.Random(seed)

    def next(self) -> tuple[Any, dict[str, Any]] | None:
        return None, {k: e.sample(self._rng) for k, e in self.space.items()}


class BayesianParameterSampling(_Sampling):
    """Optuna's TPE sampler, told each finished trial's primary metric. Takes choice,
    uniform, quniform, loguniform and randint."""

    def __init__(self, parameter_space: Mapping[str, Any], seed: int | None = None) -> None:
        super().__init__(parameter_space)
        bad = [k for k, e in self.space.items() if e.kind in ("normal", "qloguniform")]
        if bad:
            raise InvalidValueError(f"Bayesian sampling does not take {bad} (normal/qloguniform)")
        self._seed = seed
        self._study: Any = None

    def start(self, goal: PrimaryMetricGoal, max_total: int) -> None:
        try:
            import optuna
        except ImportError as exc:
            raise InvalidValueError(
                "BayesianParameterSampling needs Optuna: pip install 'runtrack[sweep]'"
            ) from exc
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        direction = (optuna.study.StudyDirection.MAXIMIZE if goal is PrimaryMetricGoal.MAXIMIZE
                     else optuna.study.StudyDirection.MINIMIZE)
        self._study = optuna.create_study(
            direction=direction, sampler=optuna.samplers.TPESampler(seed=self._seed))

    def next(self) -> tuple[Any, dict[str, Any]] | None:
        trial = self._study.ask()
        params: dict[str, Any] = {}
        for name, e in self.space.items():
            a = e.args
            if e.kind == "choice":
                params[name] = trial.suggest_categorical(name, list(a))
            elif e.kind == "randint":
                params[name] = trial.suggest_int(name, 0, a[0] - 1)
            elif e.kind == "uniform":
                params[name] = trial.suggest_float(name, a[0], a[1])
            elif e.kind == "quniform":
                params[name] = trial.suggest_float(name, a[0], a[1], step=a[2])
            else:  # loguniform: exp(uniform(a, b))
                params[name] = trial.suggest_float(name, math.exp(a[0]), math.exp(a[1]), log=True)
        return trial, params

    def tell(self, token: Any, value: float | None) -> None:
        import optuna

        if value is None or math.isnan(value):
            self._study.tell(token, state=optuna.trial.TrialState.FAIL)
        else:
            self._study.tell(token, value)


# -- early termination --------------------------------------------------------------------------


class _Policy:
    def __init__(self, evaluation_interval: int = 1, delay_evaluation: int = 0) -> None:
        if evaluation_interval < 1 or delay_evaluation < 0:
            raise InvalidValueError("evaluation_interval must be >= 1 and delay_evaluation >= 0")
        self.evaluation_interval = evaluation_interval
        self.delay_evaluation = delay_evaluation

    def _checkpoint(self, k: int) -> bool:
        return k >= self.delay_evaluation and k >= 1 and k % self.evaluation_interval == 0

    def stop(self, values: Mapping[str, Sequence[float]], active: Sequence[str],
             goal: PrimaryMetricGoal) -> dict[str, str]:
        """Active trial id -> reason, for the trials to end now. ``values`` holds each
        trial's reported primary metric values, in order."""
        out: dict[str, str] = {}
        for run_id in active:
            k = len(values.get(run_id, ()))
            if self._checkpoint(k):
                reason = self._verdict(run_id, k, values, goal)
                if reason:
                    out[run_id] = reason
        return out

    def _verdict(self, run_id: str, k: int, values: Mapping[str, Sequence[float]],
                 goal: PrimaryMetricGoal) -> str | None:
        raise NotImplementedError


def _better(goal: PrimaryMetricGoal) -> Any:
    return max if goal is PrimaryMetricGoal.MAXIMIZE else min


class NoTerminationPolicy(_Policy):
    def _verdict(self, run_id: str, k: int, values: Mapping[str, Sequence[float]],
                 goal: PrimaryMetricGoal) -> str | None:
        return None


class BanditPolicy(_Policy):
    """End a trial whose metric at an interval is outside the slack of the best trial's
    metric at that interval (``slack_factor``: a ratio; ``slack_amount``: a distance)."""

    def __init__(self, evaluation_interval: int = 1, slack_factor: float | None = None,
                 slack_amount: float | None = None, delay_evaluation: int = 0) -> None:
        super().__init__(evaluation_interval, delay_evaluation)
        if (slack_factor is None) == (slack_amount is None):
            raise InvalidValueError("BanditPolicy takes exactly one of slack_factor, slack_amount")
        self.slack_factor = slack_factor
        self.slack_amount = slack_amount

    def _verdict(self, run_id: str, k: int, values: Mapping[str, Sequence[float]],
                 goal: PrimaryMetricGoal) -> str | None:
        at_k = [v[k - 1] for v in values.values() if len(v) >= k]
        best = _better(goal)(at_k)
        mine = values[run_id][k - 1]
        maximize = goal is PrimaryMetricGoal.MAXIMIZE
        if self.slack_factor is not None:
            limit = best / (1 + self.slack_factor) if maximize else best * (1 + self.slack_factor)
        else:
            amount = self.slack_amount or 0.0
            limit = best - amount if maximize else best + amount
        if (mine < limit) if maximize else (mine > limit):
            return (f"BanditPolicy: primary metric {mine:g} at interval {k} is outside the "
                    f"slack of the best {best:g} (limit {limit:g})")
        return None


class MedianStoppingPolicy(_Policy):
    """End a trial whose best value so far is worse than the median of the other trials'
    running averages at the same interval."""

    def _verdict(self, run_id: str, k: int, values: Mapping[str, Sequence[float]],
                 goal: PrimaryMetricGoal) -> str | None:
        others = [statistics.fmean(v[:k]) for r, v in values.items() if r != run_id and len(v) >= k]
        if not others:
            return None
        median = statistics.median(others)
        best = _better(goal)(values[run_id][:k])
        worse = best < median if goal is PrimaryMetricGoal.MAXIMIZE else best > median
        if worse:
            return (f"MedianStoppingPolicy: best primary metric {best:g} is worse than the "
                    f"median {median:g} of running averages at interval {k}")
        return None


class TruncationSelectionPolicy(_Policy):
    """At each interval, end the lowest ``truncation_percentage`` % of trials."""

    def __init__(self, truncation_percentage: int, evaluation_interval: int = 1,
                 delay_evaluation: int = 0, exclude_finished_jobs: bool = False) -> None:
        super().__init__(evaluation_interval, delay_evaluation)
        if not 1 <= truncation_percentage <= 99:
            raise InvalidValueError("truncation_percentage must be between 1 and 99")
        self.truncation_percentage = truncation_percentage

    def _verdict(self, run_id: str, k: int, values: Mapping[str, Sequence[float]],
                 goal: PrimaryMetricGoal) -> str | None:
        at_k = sorted(((v[k - 1], r) for r, v in values.items() if len(v) >= k),
                      reverse=goal is PrimaryMetricGoal.MINIMIZE)
        cut = int(len(at_k) * self.truncation_percentage / 100)
        if run_id in {r for _, r in at_k[:cut]}:
            return (f"TruncationSelectionPolicy: in the lowest {self.truncation_percentage}% "
                    f"of {len(at_k)} trials at interval {k}")
        return None


# -- the configuration ---------------------------------------------------------------------------


class HyperDriveConfig:
    """A sweep: ``run_config`` (a ScriptRunConfig) run once per sampled parameter set."""

    def __init__(
        self,
        run_config: Any = None,
        hyperparameter_sampling: _Sampling | None = None,
        primary_metric_name: str = "",
        primary_metric_goal: PrimaryMetricGoal | str = PrimaryMetricGoal.MAXIMIZE,
        max_total_runs: int | None = None,
        max_concurrent_runs: int | None = None,
        max_duration_minutes: float = 10080,
        policy: _Policy | None = None,
        **_ignored: Any,
    ) -> None:
        from runtrack.sdk.script_run_config import ScriptRunConfig

        if not isinstance(run_config, ScriptRunConfig):
            raise InvalidTypeError("HyperDriveConfig(run_config=...) takes a ScriptRunConfig")
        if not isinstance(hyperparameter_sampling, _Sampling):
            raise InvalidTypeError(
                "hyperparameter_sampling must be Grid/Random/BayesianParameterSampling")
        if not primary_metric_name:
            raise InvalidValueError("primary_metric_name names the metric the trials log")
        if max_total_runs is None:
            if not isinstance(hyperparameter_sampling, GridParameterSampling):
                raise InvalidValueError("max_total_runs is needed unless sampling is a grid")
            max_total_runs = 10**6
        if max_total_runs < 1 or (max_concurrent_runs is not None and max_concurrent_runs < 1):
            raise InvalidValueError("max_total_runs and max_concurrent_runs must be >= 1")
        self.run_config = run_config
        self.hyperparameter_sampling = hyperparameter_sampling
        self.primary_metric_name = primary_metric_name
        self.primary_metric_goal = PrimaryMetricGoal(
            primary_metric_goal.value if isinstance(primary_metric_goal, PrimaryMetricGoal)
            else str(primary_metric_goal).upper())
        self.max_total_runs = max_total_runs
        self.max_concurrent_runs = max_concurrent_runs or max_total_runs
        self.max_duration_minutes = max_duration_minutes
        self.policy = policy or NoTerminationPolicy()

    def _submit_to(self, experiment: Any, tags: Mapping[str, Any] | None) -> Any:
        from runtrack.sdk._sweep import start_sweep

        return start_sweep(experiment, self, tags)
