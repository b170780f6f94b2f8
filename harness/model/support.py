"""What the compiler supports, checked once on the parsed graph.

Code after this check (quantization math, code generation, kernels) trusts it:
every operator is in the operator registry (``harness.ops``) and passed its
``OpSpec.check``, activations are int8 with per-tensor
quantization, weights are constant int8, biases constant int32, and every scale
the compiler reads is > 0 with its zero point in -128..127 (the loader has
already refused scales that are not finite and zero points outside int32).
Graph inputs and outputs are checked first, so a float model input gets the
conversion hint rather than a complaint about the QUANTIZE behind it.
"""

from __future__ import annotations

from harness.errors import ModelError
from harness.model.graph import Dtype, Graph
from harness.ops.checks import conv_output_size, count, tensor_label, window_padding
from harness.ops.registry import lookup, supported

__all__ = ["conv_output_size", "graph_io_problem", "tensor_label", "validate", "window_padding"]


RUN_IO = ("exactly 1 input and exactly 1 output are supported (the firmware loads one input buffer, as the "
          "MLPerf Tiny protocol does, and returns one output)")
HOST_IO = ("at least 1 input and exactly 1 output are supported (several inputs only in the host build of the "
           "kernels; a run on the firmware takes exactly 1 input)")


def graph_io_problem(g: Graph, *, several_inputs: bool = False) -> str | None:
    """Why ``g`` has graph inputs or outputs the compiler cannot feed or read; None when it has not.

    A run feeds one input buffer and reads one output: exactly 1 input and exactly 1 output. With
    ``several_inputs`` more inputs pass, which only the host build of the kernels can feed (the operator
    tests). The loader and ``build_firmware`` both ask this, so the two say the same thing.
    """
    inputs_ok = len(g.inputs) >= 1 if several_inputs else len(g.inputs) == 1
    if inputs_ok and len(g.outputs) == 1:
        return None
    return (f"{count(len(g.inputs), 'input')} and {count(len(g.outputs), 'output')}; "
            f"{HOST_IO if several_inputs else RUN_IO}")


_INT8_CONVERSION = ("quantize it fully to int8 (Optimize.DEFAULT, a representative dataset, "
                    "TFLITE_BUILTINS_INT8, inference_input_type=tf.int8, inference_output_type=tf.int8)")


def _check_graph_dtypes(g: Graph, where: str) -> None:
    """Graph inputs must be INT8 and the output INT8 or FLOAT32 from a final DEQUANTIZE.

    Checked before the operators: a float model input feeds a QUANTIZE whose float input the per-operator
    check would name instead of the conversion setting that removes it (DESIGN §8b).
    """
    consumers = {t: [op for op in g.operators if t in op.inputs] for t in g.inputs}
    for index in g.inputs:
        t = g.tensors[index]
        if t.dtype is Dtype.INT8:
            continue
        quantize_first = bool(consumers[index]) and all(op.opcode == "QUANTIZE" for op in consumers[index])
        hint = ("convert with inference_input_type=tf.int8 (and inference_output_type=tf.int8), so that the "
                "model starts with int8 instead of a QUANTIZE from float" if quantize_first else
                _INT8_CONVERSION)
        raise ModelError(f"{where}: graph input {tensor_label(t)} is {t.dtype.name}; INT8 is required: {hint}")
    y = g.output
    producer = next((op for op in g.operators if g.outputs[0] in op.outputs), None)
    if y.dtype is Dtype.INT8 or (y.dtype is Dtype.FLOAT32 and producer is not None
                                 and producer.opcode == "DEQUANTIZE"):
        return
    # a float output not from DEQUANTIZE comes from a float operator: the model is not int8 inside
    hint = _INT8_CONVERSION if y.dtype is Dtype.FLOAT32 else "convert with inference_output_type=tf.int8"
    made_by = f" from operator {producer.index} ({producer.opcode})" if producer is not None else ""
    raise ModelError(f"{where}: graph output {tensor_label(y)} is {y.dtype.name}{made_by}; INT8, or FLOAT32 "
                     f"from a final DEQUANTIZE, is required: {hint}")


def validate(g: Graph, *, several_inputs: bool) -> None:
    """Raise ``ModelError`` for anything the compiler cannot take.

    ``several_inputs``: accept more than one graph input (the host build of the kernels); a run on the
    firmware takes exactly one (``graph_io_problem``).
    """
    where = f"model {g.path or g.name}"
    problem = graph_io_problem(g, several_inputs=several_inputs)
    if problem:
        raise ModelError(f"{where}: {problem}")
    if not g.operators:
        raise ModelError(f"{where}: the graph has no operators")
    _check_graph_dtypes(g, where)
    available = set(g.inputs) | {t.index for t in g.tensors if t.is_constant}
    for op in g.operators:
        missing = [t for t in op.inputs if t >= 0 and t not in available]
        op_def = lookup(op.opcode)
        if missing and op_def is not None:
            raise ModelError(f"{where}: operator {op.index} ({op.opcode}) reads tensor {missing[0]} before any "
                             "operator writes it; operators must be in execution order")
        if any(t in available for t in op.outputs):
            raise ModelError(f"{where}: operator {op.index} ({op.opcode}) writes tensor {op.outputs} that is "
                             "already a graph input, a constant or another operator's output")
        available.update(op.outputs)
        if op_def is None:
            raise ModelError(f"{where}: operator {op.index} is {op.opcode}, which is not supported; "
                             f"supported operators: {supported()}")
        if len(op.outputs) != 1 or not op.inputs:
            raise ModelError(f"{where}: operator {op.index} ({op.opcode}) has {count(len(op.inputs), 'input')} "
                             f"and {count(len(op.outputs), 'output')}; expected at least 1 input and exactly "
                             "1 output")
        try:
            op_def.check(g, op)
        except ModelError as exc:
            raise ModelError(f"{where}: {exc}") from None
        except (KeyError, IndexError) as exc:
            raise ModelError(f"{where}: operator {op.index} ({op.opcode}) is malformed: {exc}") from None
