"""BPMN scripts and conditions run sandboxed: RestrictedPython with guards and a whitelist of helpers.

Helpers are plain functions that call services; process apps register them by name. A script sees the
task's data as variables, the safe builtins, and the helpers bound to the running instance.
"""

from __future__ import annotations

import datetime as _datetime
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from types import CodeType
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, limited_builtins, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)


class ScriptError(Exception):
    """A script or condition was refused at compile time or failed while running."""


@dataclass(frozen=True)
class InstanceContext:
    """What helpers may know and do about the running instance."""

    instance_id: int | None
    actor_id: int | None
    # Appends to the instance's history within the running operation (its chain, its transaction).
    record: Callable[[str, dict[str, Any]], None] | None = None


# name -> factory(context) -> callable; factories bind helpers to the running instance.
_HELPERS: dict[str, Callable[[InstanceContext], Callable[..., Any]]] = {}


def register_helper(name: str) -> Callable[[Callable[[InstanceContext], Callable[..., Any]]], Any]:
    """Decorator for a helper factory: `@register_helper("reopen_count")`."""

    def decorator(factory: Callable[[InstanceContext], Callable[..., Any]]) -> Any:
        _HELPERS[name] = factory
        return factory

    return decorator


def register_pure_helper(name: str, function: Callable[..., Any]) -> None:
    """A helper that needs nothing from the instance (date arithmetic, formatting)."""
    _HELPERS[name] = lambda _context: function


def helper_names() -> frozenset[str]:
    return frozenset(_HELPERS)


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    operations: dict[str, Callable[[Any, Any], Any]] = {
        "+=": lambda a, b: a + b,
        "-=": lambda a, b: a - b,
        "*=": lambda a, b: a * b,
        "/=": lambda a, b: a / b,
        "//=": lambda a, b: a // b,
        "%=": lambda a, b: a % b,
    }
    if op not in operations:
        raise ScriptError(f"operator {op} is not allowed in scripts")
    return operations[op](x, y)


_BUILTINS: dict[str, Any] = {
    **safe_builtins,
    **limited_builtins,
    "dict": dict,
    "list": list,
    "set": set,
    "min": min,
    "max": max,
    "sum": sum,
    "any": any,
    "all": all,
    "enumerate": enumerate,
    "sorted": sorted,
    "reversed": reversed,
    "round": round,
    "len": len,
    "Decimal": Decimal,
    "math": math,
}


def _base_globals() -> dict[str, Any]:
    return {
        "__builtins__": _BUILTINS,
        "_getattr_": safer_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplacevar,
        "datetime": _datetime,
    }


@lru_cache(maxsize=512)
def _compile(source: str, mode: str) -> CodeType:
    result = (compile_restricted_eval if mode == "eval" else compile_restricted_exec)(source, "<bpmn script>")
    if result.errors or result.code is None:
        raise ScriptError("; ".join(result.errors) or "the script does not compile")
    return result.code


def check_source(source: str, *, mode: str) -> None:
    """Refuse a script or expression that the sandbox would not run (used when deploying a diagram)."""
    _compile(source, mode)


def known_globals() -> frozenset[str]:
    """Names every script may use besides process data and helpers: the safe builtins and modules."""
    return frozenset(_BUILTINS) | {name for name in _base_globals() if not name.startswith("_")}


class Sandbox:
    """Evaluates and executes scripts for one engine operation on one instance."""

    def __init__(self, context: InstanceContext, before_helper: Callable[[], None] | None = None) -> None:
        self.helpers = {name: factory(context) for name, factory in _HELPERS.items()}
        if before_helper is not None:
            # Helpers are the only way a script reaches the database: the caller may prepare for that then.
            self.helpers = {name: _announced(helper, before_helper) for name, helper in self.helpers.items()}

    def _globals(self, data: dict[str, Any], external: dict[str, Any] | None) -> dict[str, Any]:
        clashes = set(data) & set(self.helpers)
        if clashes:
            raise ScriptError(f"process data overwrites helper(s): {', '.join(sorted(clashes))}")
        return {**_base_globals(), **self.helpers, **(external or {}), **data}

    def evaluate(self, expression: str, data: dict[str, Any], external: dict[str, Any] | None = None) -> Any:
        code = _compile(expression, "eval")
        return eval(code, self._globals(data, external))  # noqa: S307 - compiled by RestrictedPython

    def execute(self, script: str, data: dict[str, Any], external: dict[str, Any] | None = None) -> None:
        code = _compile(script, "exec")
        scope = self._globals(data, external)
        exec(code, scope)  # noqa: S102 - compiled by RestrictedPython
        hidden = set(_base_globals()) | set(self.helpers) | set(external or {}) | {"__builtins__"}
        for key in list(data):
            if key not in scope:
                del data[key]
        for key, value in scope.items():
            if key in hidden or key.startswith("_") or callable(value) or isinstance(value, type(math)):
                continue
            data[key] = value


def _announced(helper: Callable[..., Any], before: Callable[[], None]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        before()
        return helper(*args, **kwargs)

    return call


def _working_day_helpers() -> Iterable[tuple[str, Callable[..., Any]]]:
    from backend.core.workdays import add_working_days_iso

    yield "working_days_from_now", add_working_days_iso


for _name, _function in _working_day_helpers():
    register_pure_helper(_name, _function)
