"""Run options as users write them: command-line flags and TOML keys, turned into a RunConfig.

Every option has one name, written ``--name`` on the command line and ``name = ...`` in a TOML
file (``top_p`` is accepted for ``top-p``). Common options are listed in :data:`COMMON`; each family
contributes the fields it declares with :func:`~modelcollapse.families.base.option`. Values from a
file are overridden by flags. Errors name the option as the user wrote it.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

from .config import RunConfig
from .curation import CURATORS, get_curator
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
        ``"int"``, ``"float"``, ``"str"``, ``"bool"``, ``"floats"``, ``"path"``, ``"reward"``
        or ``"name-or-number"`` (a name, or a number as a TOML number or text).
    help
        One line for ``--help``.
    target
        Where the value goes: ``"run"``, ``"policy"``, ``"curation"``, ``"family"`` or
        ``"output"``.
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
    #: Families that declare the same flag with another kind (``--mean``: one number for
    #: ``gaussian``, a list for ``mvgaussian``): family → (kind, choices). Values are parsed by
    #: the kind of the run's family (:func:`for_family`).
    variants: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def for_family(self, family: str | None) -> Option:
        """This option as ``family`` declares it (its kind and choices); itself for ``None``."""
        for name, kind, choices in self.variants:
            if name == family:
                return dataclasses.replace(self, kind=kind, choices=choices, variants=())
        return self

    def kinds(self) -> tuple[Option, ...]:
        """This option once per distinct declaration."""
        return (self, *(self.for_family(name) for name, _, _ in self.variants))


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
    Option("curate", "str", "how synthetic samples are selected before training (default "
           "none; see 'curation' in the docs)", "curation", "name", choices=CURATORS.names()),
    Option("curate-k", "int", "best-of: K candidates per kept sample (default 4)", "curation",
           "k"),
    Option("curate-keep", "float", "top, bottom, reweight: q, the share of the ceil(n/q) "
           "candidates kept (default 0.5)", "curation", "keep"),
    Option("verifier-strictness", "float", "verifier: s, accept with probability "
           "(b(x)/max b)^s (default 1)", "curation", "strictness"),
    Option("verifier-shift", "float", "verifier: its belief is the truth moved by this "
           "(continuous families; default 0)", "curation", "shift"),
    Option("verifier-false-accept", "float", "verifier: a rejected sample is kept anyway with "
           "this probability (default 0)", "curation", "false_accept"),
    Option("reweight-power", "float", "reweight: beta, weights (p_truth/p_model)^beta "
           "(default 1)", "curation", "power"),
    Option("reward", "reward", "the reward best-of selects by, recorded as the metric reward "
           "(coin r0,r1; categorical V values, rank or truth; gaussian, gmm truth or target:c; "
           "ngram truth or self)", "run", "reward"),
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
    helps: dict[str, dict[str, str]] = {}  # flag → family → its help
    for cls in FAMILIES:
        for f in fields(cls):  # type: ignore[arg-type]
            meta = f.metadata.get(OPTION)
            if meta is None:
                continue
            name = meta["flag"]
            helps.setdefault(name, {})[cls.name] = meta["help"]
            if name in merged:
                old = merged[name]
                if old.field != f.name:
                    raise TypeError(f"families declare --{name} for different fields "
                                    f"({old.field}, {f.name})")
                variants = old.variants
                if (meta["kind"], meta["choices"]) != (old.kind, old.choices):
                    variants = (*variants, (cls.name, meta["kind"], meta["choices"]))
                merged[name] = Option(name, old.kind, old.help, "family", old.field,
                                      (*old.families, cls.name), old.choices, variants)
            else:
                merged[name] = Option(name, meta["kind"], meta["help"], "family", f.name,
                                      (cls.name,), meta["choices"])
    # A flag whose families describe it differently (--dim) says what it means for each.
    for name, by_family in helps.items():
        if len(set(by_family.values())) > 1:
            words = "; ".join(f"{family}: {text}" for family, text in by_family.items())
            merged[name] = dataclasses.replace(merged[name], help=words)
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


def load_toml(path: Path | str, *, label: str, by_name: bool = False) -> dict[str, Any]:
    """The tables of a TOML file; every way it can fail is a :class:`ConfigError` on ``label``.

    ``label`` names the option that gave the file (``"--config"``, ``"SWEEP.toml"``). A missing
    file, a folder, an unreadable file, bytes that are not UTF-8 and invalid TOML are each one
    line naming the file. ``by_name``: name a file that exists by its name instead
    (``"bad.toml is not valid TOML: ..."``).
    """
    path = Path(path)

    def problem(text: str) -> ConfigError:
        if by_name:
            return ConfigError(path.name, text)
        return ConfigError(label, text, str(path))

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(label, "must name an existing TOML file", str(path)) from None
    except IsADirectoryError:
        raise ConfigError(label, "must be a TOML file, not a folder", str(path)) from None
    except OSError as err:
        raise problem(f"cannot be read: {err.strerror or err}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise problem(f"must be UTF-8 text (as TOML requires); byte 0x{data[err.start]:02x} "
                      f"at offset {err.start} is not") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise problem(f"is not valid TOML: {err}") from None


def read_toml(path: Path | str, *, table: str | None = None) -> dict[str, Any]:
    """Settings from a TOML file (optionally one of its tables), keys normalised."""
    data = load_toml(path, label="--config")
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
                try:  # 1e6, 2.5e3: exactly, whatever the size (a float would round 1e30)
                    number = Decimal(value.strip())
                except ArithmeticError:
                    raise ConfigError(label, "must be an integer", value) from None
                if not number.is_finite() or number != number.to_integral_value():
                    raise ConfigError(label, "must be an integer", value) from None
                if number.adjusted() >= 300:  # 1e999999999 would be a billion digits
                    raise ConfigError(label, "must be an integer below 10^300",
                                      value) from None
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
            if any(isinstance(v, bool) for v in items):
                raise TypeError("a boolean is not a number")
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
    # A table or list where a name is expected is refused here, never turned into its text.
    if kind == "path":
        if not isinstance(value, (str, Path)) or not str(value).strip():
            raise ConfigError(label, "must be a folder path (a string)", value)
        return Path(value)
    if option.choices and (not isinstance(value, str) or value not in option.choices):
        raise ConfigError(label, f"must be one of {', '.join(option.choices)}", value)
    if kind == "name-or-number":  # a rule's name or a number (--bandwidth scott | 0.5)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, str):
            raise ConfigError(label, "must be a name or a number", value)
        return value
    if kind == "reward":
        # A reward is a name or numbers; TOML writes numbers most naturally as a list.
        if isinstance(value, (list, tuple)) and value and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return ",".join(str(v) for v in value)
        if not isinstance(value, str):
            raise ConfigError(label, "must be a name or numbers (a string such as \"truth\" "
                              "or \"0,1\", or a list of numbers)", value)
        return value
    if not isinstance(value, str):
        raise ConfigError(label, "must be a string", value)
    return value


#: Most worker threads (``run``) or processes (``sweep``, ``--dask-local``): beyond any
#: machine's cores today, and a bound before a pool or a local cluster is asked to start them.
MAX_WORKERS = 1024


def check_workers(value: int, label: str) -> int:
    """A worker count between 1 and :data:`MAX_WORKERS` (``label`` names the option)."""
    if value < 1:
        raise ConfigError(label, "must be an integer ≥ 1", value)
    if value > MAX_WORKERS:
        raise ConfigError(label, f"must be an integer between 1 and {MAX_WORKERS}", value)
    return value


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
    family_name = values.pop("family", None)
    if family_name is None:  # no family given: the classic GMM (an empty name is refused)
        family_name = "gmm"
    if family_name not in FAMILIES:  # also a list or table where the name should be
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
        parsed[key] = parse_value(option.for_family(family_name), value, options.label(key))

    # Python field names in error messages → the option names the user wrote.
    labels = {o.field: options.label(o.name) for o in known.values() if o.target != "policy"}
    labels.update({"real": options.label("real"), "synthetic": options.label("synthetic"),
                   "policy": options.label("policy")})
    labels.update({o.name.replace("-", "_"): options.label(o.name) for o in known.values()
                   if o.target == "curation"})

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
        curator_name = parsed.pop("curate", "none")
        curation_kwargs = {known[k].field: v for k, v in parsed.items()
                           if known[k].target == "curation"}
        if curator_name == "none" and curation_kwargs:
            first = next(k for k in parsed if known[k].target == "curation")
            takers = [name for name in CURATORS.names()
                      if known[first].field in {f.name for f in fields(CURATORS.get(name))}]  # type: ignore[arg-type]
            raise ConfigError(options.label(first), f"needs --curate {_or(takers)}")
        if curator_name != "none":
            takes = {f.name for f in fields(CURATORS.get(curator_name))}  # type: ignore[arg-type]
            for key in parsed:
                if known[key].target == "curation" and known[key].field not in takes:
                    flags = [f"--{o.name}" for o in known.values()
                             if o.target == "curation" and o.field in takes]
                    takes_words = _or(flags) if flags else "no settings"
                    raise ConfigError(options.label(key), f"does not apply to --curate "
                                      f"{curator_name} (it takes {takes_words})")
        curation = get_curator(curator_name, **curation_kwargs)
        run_kwargs = {known[k].field: v for k, v in parsed.items() if known[k].target == "run"}
        config = RunConfig(family=family, policy=policy, curation=curation, **run_kwargs)
    except ConfigError as err:
        raise relabel(err) from None
    # An option given explicitly that this setting ignores is refused, naming why: a default
    # is never refused, so only here, where what the user wrote is known.
    idle = config.model.idle_settings()
    for key in parsed:
        option = known[key]
        if option.target in ("family", "run") and option.field in idle:
            raise ConfigError(options.label(key), f"has no effect {idle[option.field]}")
    output = OutputSettings(out=parsed.get("out"), workers=parsed.get("workers"),
                            plots=parsed.get("plots", True))
    if output.workers is not None:
        check_workers(output.workers, options.label("workers"))
    if output.out is not None:
        from .results.folders import prepare_output

        try:
            prepare_output(output.out)  # refuse a folder with files before any work starts
        except ConfigError as err:
            raise ConfigError(options.label("out"), err.problem, err.value) from None
    return config, output
