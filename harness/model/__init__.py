"""The model layer: parse a ``.tflite`` into a validated ``Graph`` (DESIGN §1)."""

from __future__ import annotations

from harness.model.graph import Dtype, Graph, Operator, Quantization, Tensor
from harness.model.loader import load_model, parse_model

__all__ = ["Dtype", "Graph", "Operator", "Quantization", "Tensor", "load_model", "parse_model"]
