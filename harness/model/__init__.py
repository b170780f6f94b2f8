"""The model layer: parse a ``.tflite`` into a validated ``Graph`` (DESIGN §1).

``load_model`` and ``parse_model`` are loaded on first use: the loader reads the operator registry
(``harness.ops``), whose modules import ``harness.model.graph``, so importing the loader here would make
a cycle for a program that imports an operator module first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.model.graph import Dtype, Graph, Operator, Quantization, Tensor

if TYPE_CHECKING:
    from harness.model.loader import load_model, parse_model

__all__ = ["Dtype", "Graph", "Operator", "Quantization", "Tensor", "load_model", "parse_model"]


def __getattr__(name: str) -> Any:
    if name in ("load_model", "parse_model"):
        from harness.model import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'harness.model' has no attribute {name!r}")
