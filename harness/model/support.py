"""What the compiler supports, checked once on the parsed graph.

Code after this check (quantization math, code generation, kernels) trusts it:
every operator is in the operator registry (``harness.ops``) and passed its
``OpSpec.check``, activations are int8 with per-tensor quantization inside the
graph (or int16 with zero point 0 for the operators that have a 16x8 variant),
weights are constant int8, biases constant int32 (int64 for 16x8), and every
scale the compiler reads is > 0 with its zero point in the range of its type
(the loader has already refused scales that are not finite and zero points
outside int32).
At the graph's edges a FLOAT32 or UINT8 input may feed QUANTIZE to int8, and the
output may be FLOAT32 from DEQUANTIZE or UINT8 from QUANTIZE, or INT32 indices
from ARG_MAX or ARG_MIN (``OpSpec.int_output``). A variable tensor (``Tensor.is_variable``)
is accepted only as the state an operator reads and updates: an operator's input,
with no data, neither a graph input nor a graph output, written as no operator's
output (the firmware clears it before each inference).

``problems`` collects every problem of a model, and ``validate`` refuses it with
all of them in one ``ModelError``: a user converting a model learns every
blocker at once, not one per attempt.
"""

from __future__ import annotations

from harness.errors import ModelError
from harness.model.graph import Dtype, Graph, Operator
from harness.ops.checks import conv_output_size, count, tensor_label, window_padding
from harness.ops.registry import lookup, supported

__all__ = ["conv_output_size", "graph_io_problem", "join_problems", "operator_problem", "operator_problems",
           "problems",
           "tensor_label", "validate", "window_padding"]


RUN_IO = ("at least 1 input and at least 1 output are required (the firmware loads each input in turn and "
          "reports each output: harness.protocol)")
HOST_IO = RUN_IO

# The converter settings that make a float model an int8 one (TensorFlow's post-training quantization).
INT8_CONVERTER = ("converter.optimizations = [tf.lite.Optimize.DEFAULT] with a representative dataset "
                  "(converter.representative_dataset = ...), converter.target_spec.supported_ops = "
                  "[tf.lite.OpsSet.TFLITE_BUILTINS_INT8], converter.inference_input_type = tf.int8, "
                  "converter.inference_output_type = tf.int8")

# CUSTOM operators that an NPU compiler puts in place of the operators it compiled: custom code -> compiler.
NPU_CUSTOM_CODES = {
    "ethos-u": "Arm's Vela compiler for the Ethos-U NPU",
    "edgetpu-custom-op": "the Edge TPU compiler",
}


def graph_io_problem(g: Graph, *, several_inputs: bool = True) -> str | None:
    """Why ``g`` has graph inputs or outputs the compiler cannot feed or read; None when it has not.

    Any number of inputs and outputs, at least one of each: the firmware loads each input in turn and
    reports each output (our protocol extension, ``harness.protocol``); MLPerf Tiny tooling sees the first
    input and the first output. ``several_inputs`` is kept for callers of the time when only the host build
    took several inputs; it changes nothing. The loader and ``build_firmware`` both ask this.
    """
    del several_inputs
    if g.inputs and g.outputs:
        return None
    return f"{count(len(g.inputs), 'input')} and {count(len(g.outputs), 'output')}; {RUN_IO}"


def join_problems(found: list[str]) -> str:
    """One problem as it is; several numbered, one a line, after how many there are."""
    if len(found) == 1:
        return found[0]
    return f"{len(found)} problems:\n" + "\n".join(f"  {i}. {p}" for i, p in enumerate(found, 1))


def operator_problem(index: int, opcode: str, list_supported: bool = True) -> str | None:
    """Why operator ``index`` of TFLite name ``opcode`` cannot run, from its name alone; None when the
    registry has it. A CUSTOM operator arrives as ``CUSTOM:<custom code>`` (``harness.model.loader``).
    ``list_supported``: end with the supported operators (a refusal lists them once, at the first)."""
    op_def = lookup(opcode)
    if op_def is not None and not op_def.variant_of:
        return None
    if opcode.startswith("CUSTOM:"):
        code = opcode.split(":", 1)[1]
        compiler = NPU_CUSTOM_CODES.get(code)
        if compiler is not None:
            return (f"operator {index} is CUSTOM {code!r}, which {compiler} puts in place of the operators it "
                    "compiled for its NPU; that runs only on the NPU: benchmark the model from before "
                    "that compiler ran (the int8 .tflite it was given)")
        listed = f": {supported()}" if list_supported else ""
        return f"operator {index} is CUSTOM {code!r}, a custom operator; only TFLite builtin operators are supported{listed}"
    listed = f"; supported operators: {supported()}" if list_supported else ""
    return f"operator {index} is {opcode}, which is not supported{listed}"


def operator_problems(operators: list[Operator] | tuple[Operator, ...]) -> dict[int, str]:
    """``operator_problem`` of each operator that has one, by index; only the first lists the supported ones."""
    found: dict[int, str] = {}
    for op in operators:
        problem = operator_problem(op.index, op.opcode, list_supported=not found)
        if problem:
            found[op.index] = problem
    return found


def _edge_quantize_in(g: Graph, op: Operator) -> bool:
    """QUANTIZE reading a graph input (FLOAT32 or UINT8 to int8 at the input edge)."""
    return op.opcode == "QUANTIZE" and bool(op.inputs) and op.inputs[0] in g.inputs


def _edge_out(g: Graph, op: Operator) -> bool:
    """DEQUANTIZE or QUANTIZE writing the graph output (to FLOAT32 or UINT8 at the output edge)."""
    return op.opcode in ("DEQUANTIZE", "QUANTIZE") and bool(op.outputs) and op.outputs[0] in g.outputs


def _computes_in(g: Graph, op: Operator, dtype: Dtype) -> bool:
    """Whether ``op`` reads or writes a non-constant ``dtype`` tensor other than at an edge the compiler takes."""
    reads = [t for t in op.inputs if 0 <= t < len(g.tensors) and not g.tensors[t].is_constant]
    if _edge_quantize_in(g, op):
        reads = reads[1:]
    writes = [t for t in op.outputs if 0 <= t < len(g.tensors)]
    if _edge_out(g, op):
        writes = writes[1:]
    return any(g.tensors[t].dtype is dtype for t in reads + writes)


def _listed(ops: list[Operator]) -> str:
    return ", ".join(f"{op.index} ({op.opcode})" for op in ops)


def _graph_dtype_problems(g: Graph, skip: set[int]) -> list[str]:
    """Graph inputs INT8, or FLOAT32 or UINT8 into QUANTIZE; the output INT8, FLOAT32 from DEQUANTIZE or UINT8
    from QUANTIZE. ``skip``: operators already named as computing in float or uint8 (their model-wide
    problem says what to do)."""
    found = []
    for index in g.inputs:
        t = g.tensors[index]
        consumers = [op for op in g.operators if index in op.inputs]
        if t.dtype is Dtype.INT8 or any(op.index in skip for op in consumers):
            continue
        if t.dtype in (Dtype.FLOAT32, Dtype.UINT8) and consumers and all(op.opcode == "QUANTIZE" for op in consumers):
            continue  # the QUANTIZE's own check names anything wrong with it
        found.append(f"graph input {tensor_label(t)} is {t.dtype.name}; INT8 is required, or FLOAT32 or UINT8 "
                     f"read only by QUANTIZE: convert with {INT8_CONVERTER}")
    for index in g.outputs:
        y = g.tensors[index]
        producer = next((op for op in g.operators if index in op.outputs), None)
        if producer is not None and producer.index in skip:
            continue
        edge = {Dtype.FLOAT32: "DEQUANTIZE", Dtype.UINT8: "QUANTIZE"}.get(y.dtype)
        if y.dtype is Dtype.INT8 or (producer is not None and producer.opcode == edge):
            continue
        spec = lookup(producer.opcode) if producer is not None else None
        if y.dtype is Dtype.INT32 and spec is not None and spec.int_output:
            continue  # indices (ARG_MAX): the operator's own check names anything wrong with them
        made_by = f" from operator {producer.index} ({producer.opcode})" if producer is not None else ""
        found.append(f"graph output {tensor_label(y)} is {y.dtype.name}{made_by}; INT8, FLOAT32 from a final "
                     "DEQUANTIZE, UINT8 from a final QUANTIZE or INT32 from ARG_MAX or ARG_MIN is required: "
                     f"convert with {INT8_CONVERTER}")
    return found


def _variable_problems(g: Graph) -> list[str]:
    """A variable tensor (state an operator keeps, such as SVDF's) holds no data, is neither a graph input nor
    a graph output, no operator writes it as an output, and some operator reads it: the firmware gives it
    arena bytes of its own for the whole program and clears it before each inference (harness.firmware)."""
    found = []
    for t in g.tensors:
        if not t.is_variable:
            continue
        writers = [op.index for op in g.operators if t.index in op.outputs]
        readers = [op.index for op in g.operators if t.index in op.inputs]
        why = ("it holds constant data" if t.is_constant else "it is a graph input" if t.index in g.inputs
               else "it is a graph output" if t.index in g.outputs
               else f"operators {writers} write it as an output" if writers
               else "no operator reads it" if not readers else "")
        if why:
            found.append(f"variable {tensor_label(t)}: {why}; a variable tensor is accepted only as state an "
                         "operator reads and updates (an input of that operator, with no data, not a graph "
                         "input or output)")
    return found


def problems(g: Graph, *, several_inputs: bool) -> list[str]:
    """Every reason the compiler cannot take ``g``, in graph order; empty when it can.

    Model-wide problems come first (graph inputs and outputs, a graph that computes in float or uint8), then
    each operator's: an operator the registry does not have, one out of execution order, and what its
    ``OpSpec.check`` refuses. An operator already named as computing in float or uint8 is not checked again.
    """
    found: list[str] = []
    io = graph_io_problem(g, several_inputs=several_inputs)
    if io:
        found.append(io)
    if not g.operators:
        return [*found, "the graph has no operators"]
    floats = [op for op in g.operators if _computes_in(g, op, Dtype.FLOAT32)]
    uint8s = [op for op in g.operators if _computes_in(g, op, Dtype.UINT8) and op not in floats]
    if floats:
        found.append(f"operators {_listed(floats)} compute in FLOAT32: the model is not quantized to int8 "
                     f"(FLOAT32 is supported only as the graph input of a QUANTIZE and the output of a final "
                     f"DEQUANTIZE); convert it with {INT8_CONVERTER}")
    if uint8s:
        found.append(f"operators {_listed(uint8s)} compute in UINT8, the older quantization scheme: TFLite "
                     "Micro's int8 kernels do not take uint8 activations inside the graph (UINT8 is supported "
                     "only at the edges, through QUANTIZE to and from int8); quantize the model again to int8 "
                     f"from the float model with {INT8_CONVERTER} (tf.uint8 as inference_input_type and "
                     "inference_output_type keeps uint8 at the edges)")
    skip = {op.index for op in floats + uint8s}
    found += _graph_dtype_problems(g, skip)
    found += _variable_problems(g)
    variables = {t.index for t in g.tensors if t.is_variable and not t.is_constant}
    available = set(g.inputs) | {t.index for t in g.tensors if t.is_constant} | variables
    unsupported_ops = operator_problems(g.operators)
    for op in g.operators:
        missing = [t for t in op.inputs if t >= 0 and t not in available]
        unsupported = unsupported_ops.get(op.index)
        overwritten = [t for t in op.outputs if t in available]
        available.update(op.outputs)
        if unsupported:
            found.append(unsupported)
            continue
        if missing:
            never = not any(missing[0] in o.outputs for o in g.operators)
            found.append(f"operator {op.index} ({op.opcode}) reads tensor {missing[0]} before any operator writes "
                         "it; operators must be in execution order"
                         + (f" (no operator writes {tensor_label(g.tensors[missing[0]])}, and it is not a graph "
                            "input, a constant or a variable tensor)" if never else ""))
            continue
        if overwritten:
            found.append(f"operator {op.index} ({op.opcode}) writes tensor {list(op.outputs)} that is already a "
                         "graph input, a constant or another operator's output")
            continue
        if op.index in skip:
            continue
        op_def = lookup(op.opcode)
        assert op_def is not None  # operator_problem said so
        outputs_ok = len(op.outputs) >= 1 if op_def.several_outputs else len(op.outputs) == 1
        if not outputs_ok or not op.inputs:
            found.append(f"operator {op.index} ({op.opcode}) has {count(len(op.inputs), 'input')} and "
                         f"{count(len(op.outputs), 'output')}; expected at least 1 input and "
                         f"{'at least' if op_def.several_outputs else 'exactly'} 1 output")
            continue
        try:
            op_def.check(g, op)
        except ModelError as exc:
            found.append(str(exc))
        except (KeyError, IndexError) as exc:
            found.append(f"operator {op.index} ({op.opcode}) is malformed: {exc}")
    return found


def validate(g: Graph, *, several_inputs: bool) -> None:
    """Raise one ``ModelError`` naming every problem ``problems`` finds, if it finds any.

    ``several_inputs``: accept more than one graph input (the host build of the kernels); a run on the
    firmware takes exactly one (``graph_io_problem``).
    """
    found = problems(g, several_inputs=several_inputs)
    if found:
        raise ModelError(f"model {g.path or g.name}: {join_problems(found)}")
