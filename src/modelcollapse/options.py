"""Run options as users write them: command-line flags and TOML keys, turned into a RunConfig.

Every option has one name, written ``--name`` on the command line and ``name = ...`` in a TOML
file (``top_p`` is accepted for ``top-p``). Common options are listed in :data:`COMMON`; each family
contributes the fields it declares with :func:`~modelcollapse.families.base.option`. Values from a
file are overridden by flags. Errors name the option as the user wrote it.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .config import RunConfig
from .errors import ConfigError
from .families import FAMILIES
from .families.base import OPTION
from .policies import POLICIES, get_policy


@dataclass(frozen=True)
class Option:
    """One user-facing option.

    Attributes
    ----------
    name
        Flag without dashes, also the TOML key.
    kind
        ``"int"``, ``"float"``, ``"str"``, ``"bool"``, ``"floats"`` or ``"path"``.
    help
        One line for ``--help``.
    target
        Where the value goes: ``"run"``, ``"policy"``, ``"family"`` or ``"output"``.
    field
        The Python name it sets (``n_samples`` for ``samples``).
    families
        Families that take it (family options only).
    choices
        Allowed strings.
    """

    name: str
    kind: str
    help: str
    target: str
    field: str
    families: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()


COMMON: tuple[Option, ...] = (
    Option("samples", "int", "N: fresh samples per generation (coin: tosses k)", "run",
           "n_samples"),
    Option("generations", "int", "G: number of fit steps", "run", "n_generations"),
    Option("replicates", "int", "independent replicates (rollouts)", "run", "n_replicates"),
    Option("seed", "int", "random seed (drawn, printed and recorded when omitted)", "run", "seed"),
    Option("policy", "str", "how training sets are built (default replace)", "policy", "name",
           choices=POLICIES.names()),
    Option("real", "float", "fraction of fresh real data (mix, accumulate, accumulate-subsample)",
           "policy", "real"),
    Option("synthetic", "float", "fraction of samples of the last model (mix; default 1 - real); "
           "augment: synthetic samples per real sample (default 1)", "policy", "synthetic"),
    Option("collapse-fraction", "float",
           "collapse time: first generation with var below this fraction of the truth's "
           "(default 0.5)", "run", "collapse_fraction"),
    Option("out", "path", "results folder (default runs/<family>-<timestamp>)", "output", "out"),
    Option("workers", "int", "threads to use (default: all cores; never changes the numbers)",
           "output", "workers"),
    Option("plots", "bool", "write PNG figures (default true; --no-plots to skip)", "output",
           "plots"),
)


def family_options() -> tuple[Option, ...]:
    """Options declared by the registered families, merged by name."""
    merged: dict[str, Option] = {}
    for cls in FAMILIES:
        for f in fields(cls):  # type: ignore[arg-type]
            meta = f.metadata.get(OPTION)
            if meta is None:
                continue
            name = meta["flag"]
            if name in merged:
                old = merged[name]
                merged[name] = Option(name, old.kind, old.help, "family", old.field,
                                      (*old.families, cls.name), old.choices)
            else:
                merged[name] = Option(name, meta["kind"], meta["help"], "family", f.name,
                                      (cls.name,), meta["choices"])
    return tuple(merged.values())


def all_options() -> dict[str, Option]:
    """Every option by name."""
    return {o.name: o for o in (*COMMON, *family_options())}


@dataclass(frozen=True)
class OutputSettings:
    """Options that change where and how results are written, never the numbers."""

    out: Path | None = None
    workers: int | None = None
    plots: bool = True


@dataclass
class OptionSet:
    """Option values with where each came from (a flag, or a file)."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def update(self, values: Mapping[str, Any], source: str) -> None:
        for key, value in values.items():
            self.values[key] = value
            self.sources[key] = source

    def label(self, name: str) -> str:
        """How to name an option in a message: ``--samples`` or ``samples (in run.toml)``."""
        source = self.sources.get(name, "flag")
        return f"--{name}" if source == "flag" else f"{name} (in {source})"


def normalise_key(key: str) -> str:
    return key.strip().replace("_", "-")


def read_toml(path: Path | str, *, table: str | None = None) -> dict[str, Any]:
    """Settings from a TOML file (optionally one of its tables), keys normalised."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError("--config", "must name an existing TOML file", str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError("--config", f"is not valid TOML: {err}", str(path)) from None
    if table is not None:
        data = data.get(table, {})
    return {normalise_key(k): v for k, v in data.items()}


def suggest(name: str, known: list[str]) -> str:
    """`` (did you mean samples?)`` for a near miss of a known name, else ``""``."""
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def parse_value(option: Option, value: Any, label: str) -> Any:
    """Convert a flag's text or a TOML value to the option's type."""
    kind = option.kind
    if kind == "int":
        if isinstance(value, bool):
            raise ConfigError(label, "must be an integer", value)
        if isinstance(value, str):
            try:
                return int(value.replace("_", ""))
            except ValueError:
                try:
                    number = float(value)
                except ValueError:
                    raise ConfigError(label, "must be an integer", value) from None
                if not number.is_integer():
                    raise ConfigError(label, "must be an integer", value) from None
                return int(number)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if not isinstance(value, int):
            raise ConfigError(label, "must be an integer", value)
        return value
    if kind == "float":
        if isinstance(value, bool):
            raise ConfigError(label, "must be a number", value)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(label, "must be a number", value) from None
    if kind == "floats":
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            items = [items]
        try:
            return tuple(float(v) for v in items)
        except (TypeError, ValueError):
            raise ConfigError(label, "must be a comma-separated list of numbers",
                              value) from None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "on", "1"):
            return True
        if text in ("false", "no", "off", "0"):
            return False
        raise ConfigError(label, "must be true or false", value)
    if kind == "path":
        return Path(str(value))
    if option.choices and value not in option.choices:
        raise ConfigError(label, f"must be one of {', '.join(option.choices)}", value)
    return str(value)


def _or(names: list[str]) -> str:
    """``a, b or c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def build(options: OptionSet) -> tuple[RunConfig, OutputSettings]:
    """Turn option values into a :class:`RunConfig` and :class:`OutputSettings`.

    Raises
    ------
    ConfigError
        With the offending option named as the user wrote it.
    """
    known = all_options()
    values = dict(options.values)
    family_name = values.pop("family", None) or "gmm"
    if family_name not in FAMILIES:
        raise ConfigError(options.label("family").removeprefix("--"),
                          f"must be one of {', '.join(FAMILIES.names())}", family_name)
    parsed: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if key not in known:
            raise ConfigError(options.label(key), "is not a known setting"
                              + suggest(key, list(known)))
        option = known[key]
        if option.target == "family" and family_name not in option.families:
            raise ConfigError(options.label(key), f"does not apply to family {family_name} "
                              f"(it applies to {', '.join(option.families)})")
        parsed[key] = parse_value(option, value, options.label(key))

    # Python field names in error messages → the option names the user wrote.
    labels = {o.field: options.label(o.name) for o in known.values() if o.target != "policy"}
    labels.update({"real": options.label("real"), "synthetic": options.label("synthetic"),
                   "policy": options.label("policy")})

    def relabel(err: ConfigError) -> ConfigError:
        field_name = " ".join(labels.get(token, token) for token in err.field.split(" "))
        return ConfigError(field_name, err.problem, err.value)

    try:
        family_kwargs = {known[k].field: v for k, v in parsed.items()
                         if known[k].target == "family"}
        family = FAMILIES.get(family_name)(**family_kwargs)
        policy_name = parsed.pop("policy", "replace")
        policy_kwargs = {known[k].field: v for k, v in parsed.items()
                         if known[k].target == "policy"}
        if policy_name == "replace" and policy_kwargs:
            first = next(iter(policy_kwargs))
            takers = [name for name in POLICIES.names()
                      if first in {f.name for f in fields(POLICIES.get(name))}]  # type: ignore[arg-type]
            raise ConfigError(first, f"needs --policy {_or(takers)}")
        policy = get_policy(policy_name, **policy_kwargs)
        run_kwargs = {known[k].field: v for k, v in parsed.items() if known[k].target == "run"}
        config = RunConfig(family=family, policy=policy, **run_kwargs)
    except ConfigError as err:
        raise relabel(err) from None
    output = OutputSettings(out=parsed.get("out"), workers=parsed.get("workers"),
                            plots=parsed.get("plots", True))
    if output.workers is not None and output.workers < 1:
        raise ConfigError(options.label("workers"), "must be an integer ≥ 1", output.workers)
    if output.out is not None:
        from .results.folders import prepare_output

        try:
            prepare_output(output.out)  # refuse a folder with files before any work starts
        except ConfigError as err:
            raise ConfigError(options.label("out"), err.problem, err.value) from None
    return config, output
