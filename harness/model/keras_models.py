"""The project's own Keras models, converted to int8 .tflite with a seeded
representative dataset. Run as ``python -m harness.model.keras_models NAME OUT``
(a subprocess, so TensorFlow never loads into the harness process)."""

from __future__ import annotations

import sys


def tinycnn():  # type: ignore[no-untyped-def]
    """A small CNN: CONV_2D (SAME, stride 2, RELU), CONV_2D (VALID, RELU6), RESHAPE,
    FULLY_CONNECTED (RELU), FULLY_CONNECTED, SOFTMAX. Input 16x16x2, 10 classes."""
    import keras

    keras.utils.set_random_seed(7)
    return keras.Sequential([
        keras.Input((16, 16, 2), batch_size=1),
        keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
        keras.layers.Conv2D(12, 3, padding="valid", activation="relu6"),
        keras.layers.Flatten(),
        keras.layers.Dense(24, activation="relu"),
        keras.layers.Dense(10),
        keras.layers.Softmax(),
    ])


def convert(model, seed: int = 0) -> bytes:  # type: ignore[no-untyped-def]
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    shape = (1, *model.input_shape[1:])

    def representative():  # type: ignore[no-untyped-def]
        for _ in range(64):
            yield [rng.standard_normal(shape).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return bytes(converter.convert())


MODELS = {"tinycnn": tinycnn}

if __name__ == "__main__":
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    name, out = sys.argv[1], sys.argv[2]
    with open(out, "wb") as f:
        f.write(convert(MODELS[name]()))  # type: ignore[no-untyped-call]
