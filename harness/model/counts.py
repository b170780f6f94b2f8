"""Operator counts, parameters and MACs of a parsed model, by the counting rules of DESIGN §6.

- Parameters: the elements of the weight and bias tensors of CONV_2D, DEPTHWISE_CONV_2D and
  FULLY_CONNECTED (not the shape tensor of a RESHAPE, nor any other constant).
- MACs: output elements x kernel height x kernel width x input channels for CONV_2D; output elements x
  kernel height x kernel width for DEPTHWISE_CONV_2D; outputs x inputs for FULLY_CONNECTED; no other
  operator counts.
"""

from __future__ import annotations

from harness.model.graph import Graph, Operator

WEIGHTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def op_counts(g: Graph) -> dict[str, int]:
    """How many operators of each kind, in order of first appearance."""
    counts: dict[str, int] = {}
    for op in g.operators:
        counts[op.opcode] = counts.get(op.opcode, 0) + 1
    return counts


def params(g: Graph) -> int:
    """Elements of the weights and biases of the convolutions and fully connected layers."""
    return sum(g.tensors[i].elements for op in g.operators if op.opcode in WEIGHTED_OPS
               for i in op.inputs[1:3] if i >= 0)


def op_macs(g: Graph, op: Operator) -> int:
    """Multiply-accumulates of one operator: 0 for any but CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED.

    Shapes were checked when the graph was loaded (``harness.model.support``): conv weights are
    [out_c, k_h, k_w, in_c], depthwise [1, k_h, k_w, out_c], fully connected [outputs, inputs].
    """
    if op.opcode not in WEIGHTED_OPS:
        return 0
    w = g.tensors[op.inputs[1]].shape
    out_elements = g.tensors[op.outputs[0]].elements
    if op.opcode == "CONV_2D":
        return out_elements * w[1] * w[2] * w[3]
    if op.opcode == "DEPTHWISE_CONV_2D":
        return out_elements * w[1] * w[2]
    return out_elements * w[1]


def macs(g: Graph) -> int:
    """Multiply-accumulates of one inference."""
    return sum(op_macs(g, op) for op in g.operators)
