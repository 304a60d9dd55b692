"""The key contract: which key patterns exist, what their values hold, how long they live.

A contract is data: each key pattern is a prefix, a Redis type, the shape of its values (a
pydantic model, any type pydantic validates, or a JSON Schema) and a TTL policy. The default is
the AI Goals Tracker's (`redis_preflight.contract.goals_tracker`); `--contract` loads another from
a TOML file (or pyproject.toml's `[tool.redis-preflight.contract]`), a module or a `.py` file,
and `--key-policies` adjusts any pattern's policy without code.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from functools import cache
from pathlib import Path
from typing import Any

from redis_preflight.contract.file import load_file
from redis_preflight.contract.goals_tracker import CONTRACT as GOALS_TRACKER
from redis_preflight.contract.model import Contract, ContractError, KeyPattern, KeyPolicy, TtlPolicy

__all__ = ["Contract", "ContractError", "KeyPattern", "KeyPolicy", "TtlPolicy", "load_contract"]


def load_contract(spec: str | None, policies: dict[str, KeyPolicy]) -> Contract:
    """The default contract, or the one `spec` names, with the per-pattern policies applied.

    `spec` is `contract.toml`, `pyproject.toml`, `package.module`, `package.module:NAME`,
    `path/to/file.py` or `file.py:NAME`; NAME defaults to CONTRACT.
    """
    contract = _import(spec) if spec else _default()
    for name, policy in policies.items():
        if name not in contract.names:
            raise ContractError(
                f"key policy for unknown pattern {name!r}; the contract has {', '.join(contract.names)}"
            )
        contract = contract.with_policy(name, policy)
    return contract


def _default() -> Contract:
    return GOALS_TRACKER


@cache  # a fleet's runs share one contract: the user's module runs once
def _import(spec: str) -> Contract:
    if spec.endswith(".toml"):
        return load_file(Path(spec))
    where, _, attribute = spec.partition(":") if not Path(spec).is_file() else (spec, "", "")
    attribute = attribute or "CONTRACT"
    try:
        module = _load_file(Path(where)) if where.endswith(".py") else importlib.import_module(where)
    except Exception as e:  # noqa: BLE001 - a user's module can fail in any way: say how, once
        raise ContractError(f"contract {spec!r} (--contract) failed to load: {type(e).__name__}: {e}") from e
    contract = getattr(module, attribute, None)
    if not isinstance(contract, Contract):
        raise ContractError(
            f"contract {spec!r} (--contract) has no {attribute} of type redis_preflight.contract.Contract "
            f"(found {type(contract).__name__})"
        )
    return contract


def _load_file(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"no file {path}")
    spec = importlib.util.spec_from_file_location(f"preflight_contract_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the models' annotations through it
    spec.loader.exec_module(module)
    return module
