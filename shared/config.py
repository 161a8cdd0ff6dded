"""A worker's settings, each declared once: a field of a frozen dataclass that names its var
(wrangler.toml [vars], or a secret), its default, how the var's text is parsed and why the setting
exists (api/settings.py, inference/settings.py). A var that is missing or empty leaves the
default. A worker parses its env once per isolate (shared/isolate.py): vars cannot change while
an isolate lives.

A plain dataclass rather than pydantic-settings: that package reads os.environ (a worker's vars
are attributes of its env object) and costs ~60 ms more to import on CPython, more on Pyodide, at
every cold start."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import field, fields, replace
from typing import TYPE_CHECKING, Any, Self, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Value = TypeVar("Value")
Number = TypeVar("Number", int, float)
VarReader = Callable[[str], str | None]


def read_var(env: Any, name: str) -> str | None:
    """The var's text, or None when it is missing or empty."""
    value = getattr(env, name, None)
    return None if value in (None, "") else str(value)


def setting(var: str, default: Value, parse: Callable[[str], Value], *, doc: str, secret: bool = False) -> Value:
    """A field read from `var`: `parse(text)` when it is set, else `default`. A secret stays out
    of the settings' repr, and so out of any log of them."""
    return field(default=default, repr=not secret, metadata={"var": var, "parse": parse, "doc": doc})


def derived(compute: Callable[[Any, VarReader], Value], default: Callable[[], Value], *, vars: Iterable[str], doc: str) -> Value:
    """A field computed from several vars, or from other settings: `compute(settings, read)`
    once the plain settings are parsed, where `read(name)` reads one of `vars`."""
    return field(default_factory=default, metadata={"compute": compute, "vars": tuple(vars), "doc": doc})


def text(value: str) -> str:
    return value


def number(value: str) -> float:
    return float(value)


def integer(value: str) -> int:
    return int(float(value))  # "1e3" and "10.0" read as numbers do


def flag(value: str) -> bool:
    return value.lower() == "true"


def clamped(parse: Callable[[str], Number], low: Number, high: Number | None = None) -> Callable[[str], Number]:
    """`parse`, then raised to `low` and lowered to `high`."""
    def read(value: str) -> Number:
        parsed = max(low, parse(value))
        return parsed if high is None else min(high, parsed)

    return read


class EnvSettings:
    """The base of a worker's Settings dataclass."""

    @classmethod
    def from_env(cls, env: Any) -> Self:
        read: VarReader = lambda name: read_var(env, name)  # noqa: E731
        specs = fields(cls)  # type: ignore[arg-type]  # every subclass is a dataclass
        plain = {spec.name: spec.metadata["parse"](value) for spec in specs
                 if "var" in spec.metadata and (value := read(spec.metadata["var"])) is not None}
        settings = cls(**plain)
        computed = {spec.name: spec.metadata["compute"](settings, read) for spec in specs if "compute" in spec.metadata}
        return replace(settings, **computed) if computed else settings  # type: ignore[type-var]


def declared_vars(settings: "type[DataclassInstance]") -> Mapping[str, str]:
    """Every var the settings read, with the doc of the setting that reads it."""
    declared: dict[str, str] = {}
    for spec in fields(settings):
        for var in (spec.metadata["var"],) if "var" in spec.metadata else spec.metadata.get("vars", ()):
            declared[var] = spec.metadata["doc"]
    return declared
