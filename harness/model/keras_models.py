"""The project's own Keras models, converted to int8 ``.tflite`` with a seeded calibration set.

Run as ``python -m harness.model.keras_models NAME OUT [--seed N] [--info JSON]``, a subprocess, so
TensorFlow never loads into the harness process: ``harness.model.builtin.build`` does that and caches
the result. ``OUT`` gets the model; ``JSON``, if given, the facts the recipe records (a trained model's
accuracy, for one). This module and the recipes import TensorFlow inside their functions only.

A recipe is ``NAME(seed) -> Recipe``; the recipes are ``tinycnn`` here, the four MLPerf Tiny
architectures in ``harness.model.reference_archs`` and the trained ``digits`` in ``harness.model.digits``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Recipe:
    """A Keras model ready to convert, with the float32 samples that calibrate its quantization."""

    model: Any                                          # a keras.Model
    calibration: list[np.ndarray[Any, Any]]             # each [1, *input shape], float32
    info: dict[str, Any] = field(default_factory=dict)  # facts to record with the build
    # facts about the converted model, from its .tflite bytes (e.g. its int8 accuracy)
    evaluate: Callable[[bytes], dict[str, Any]] | None = None
    # FULLY_CONNECTED weights per output channel (the converter's default since TF 2.16) instead of
    # per tensor (as the MLPerf Tiny files have them, DESIGN §6)
    per_channel_dense: bool = False


def tinycnn(seed: int) -> Recipe:
    """A small CNN: CONV_2D (SAME, stride 2, RELU), CONV_2D (VALID, RELU6), RESHAPE,
    FULLY_CONNECTED (RELU), FULLY_CONNECTED, SOFTMAX. Input 16x16x2, 10 classes."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((16, 16, 2), batch_size=1),
        keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
        keras.layers.Conv2D(12, 3, padding="valid", activation="relu6"),
        keras.layers.Flatten(),
        keras.layers.Dense(24, activation="relu"),
        keras.layers.Dense(10),
        keras.layers.Softmax(),
    ])
    # Calibration from seed 0 whatever the weights' seed: with seed 7 these are the bytes that the tests
    # relying on tinycnn's values were written against (one wrong LSB in layer 3 reaches its output).
    rng = np.random.default_rng(0)
    # per-channel FULLY_CONNECTED weights keep that path of the compiler under test
    return Recipe(model, [rng.standard_normal((1, 16, 16, 2)).astype(np.float32) for _ in range(64)],
                  per_channel_dense=True)


def convert(recipe: Recipe) -> bytes:
    """Full int8 (weights and activations, int8 input and output) with ``Optimize.DEFAULT`` and
    ``TFLITE_BUILTINS_INT8``, calibrated on ``recipe.calibration``: the same recipe gives the same bytes.
    Convolution weights are per channel; FULLY_CONNECTED ones per tensor unless the recipe says otherwise."""
    import tensorflow as tf

    def representative() -> Iterator[list[np.ndarray[Any, Any]]]:
        for sample in recipe.calibration:
            yield [sample]

    converter = tf.lite.TFLiteConverter.from_keras_model(recipe.model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    # a private switch of TFLiteConverter (TF 2.16+); older converters quantize dense layers per tensor anyway
    converter._experimental_disable_per_channel_quantization_for_dense_layers = not recipe.per_channel_dense
    return bytes(converter.convert())


def recipes() -> dict[str, Callable[[int], Recipe]]:
    """Every recipe by model id (imported here: the recipe modules import this one for ``Recipe``)."""
    from harness.model.digits import digits
    from harness.model.reference_archs import ARCHS

    return {"tinycnn": tinycnn, **ARCHS, "digits": digits}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m harness.model.keras_models")
    parser.add_argument("name", choices=sorted(recipes()))
    parser.add_argument("out", type=Path, help="where to write the .tflite")
    parser.add_argument("--seed", type=int, default=0, help="seeds weights, training and calibration (default 0)")
    parser.add_argument("--info", type=Path, help="where to write the recorded facts as JSON")
    args = parser.parse_args(argv)
    recipe = recipes()[args.name](args.seed)
    model = convert(recipe)
    info = dict(recipe.info)
    if recipe.evaluate is not None:
        info.update(recipe.evaluate(model))
    args.out.write_bytes(model)
    if args.info is not None:
        args.info.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main(sys.argv[1:])
