"""``digits``: a small CNN trained on scikit-learn's 8x8 handwritten digits, and that data set.

The data (1,797 images of 8x8 pixels, values 0-16, ten classes) ships inside scikit-learn, so nothing
is downloaded. One fixed split, drawn with ``numpy.random.default_rng(SPLIT_SEED)``, holds out
``TEST_SAMPLES`` images; the model trains on the rest. Images are scaled to [0, 1] (pixel / 16), so
the converted model's input quantization is scale 1/255, zero point -128.

``digits_test_set`` and ``int8_accuracy`` need numpy, scikit-learn and tflite-micro only, not
TensorFlow: the accuracy-on-target code uses them for the same figures the build records.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.errors import ModelError
from harness.model.keras_models import Recipe

SPLIT_SEED = 0
TEST_SAMPLES = 360
EPOCHS = 30
BATCH = 32
CALIBRATION_SAMPLES = 128

Images = np.ndarray[Any, np.dtype[np.float32]]
Labels = np.ndarray[Any, np.dtype[np.int64]]


def _load() -> tuple[Images, Labels]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ModelError("the digits data set needs scikit-learn (pip install '.[models]')") from exc
    data = load_digits()
    images = (np.asarray(data.images, dtype=np.float32) / np.float32(16.0))[..., np.newaxis]
    return images, np.asarray(data.target, dtype=np.int64)


def _split() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], Images, Labels]:
    images, labels = _load()
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    return order[TEST_SAMPLES:], order[:TEST_SAMPLES], images, labels


def digits_train_set() -> tuple[Images, Labels]:
    """The training images, float32 [N, 8, 8, 1] in [0, 1], and their labels 0-9 (N = 1,437)."""
    train, _, images, labels = _split()
    return images[train], labels[train]


def digits_test_set() -> tuple[Images, Labels]:
    """The held-out images, float32 [360, 8, 8, 1] in [0, 1], and their labels 0-9: the split the
    recorded accuracies were measured on."""
    _, test, images, labels = _split()
    return images[test], labels[test]


def quantize(images: Images, scale: float, zero_point: int) -> np.ndarray[Any, np.dtype[np.int8]]:
    """``images`` as int8 model inputs: q = round(x / scale) + zero_point, saturated to [-128, 127]."""
    q = np.round(images / np.float32(scale)) + zero_point
    out: np.ndarray[Any, np.dtype[np.int8]] = np.clip(q, -128, 127).astype(np.int8)
    return out


def int8_accuracy(model: bytes, images: Images, labels: Labels) -> float:
    """Top-1 accuracy of an int8 ``.tflite`` (given as bytes) on ``images`` in the tflite-micro host
    interpreter; raises ``ModelError`` if the model cannot be parsed or run."""
    from harness.model import parse_model
    from harness.model.reference import interpreter_arena_bytes

    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as exc:
        raise ModelError(f"the host reference needs tflite-micro (pip install --pre tflite-micro): {exc}") from exc
    g = parse_model(model, name="digits")
    quant = g.input.quant
    if quant is None:
        raise ModelError("digits: the model's input is not quantized")
    inputs = quantize(images, quant.scale[0], quant.zero_point[0])
    interpreter = runtime.Interpreter.from_bytes(model, arena_size=interpreter_arena_bytes(g))
    correct = 0
    for x, label in zip(inputs, labels):
        interpreter.set_input(x.reshape(g.input.shape), 0)
        interpreter.invoke()
        correct += int(np.argmax(interpreter.get_output(0)) == label)
    return correct / len(labels)


def digits(seed: int) -> Recipe:
    """Train the CNN (CONV_2D 3x3 16, CONV_2D 3x3 stride 2 32, RESHAPE, FULLY_CONNECTED 64,
    FULLY_CONNECTED 10, SOFTMAX; ReLU fused) for ``EPOCHS`` epochs with Adam, seeded and deterministic.
    Records its float test accuracy; its int8 one is measured on the converted model."""
    import keras
    import tensorflow as tf

    from harness.model.reference_archs import flatten

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    x_train, y_train = digits_train_set()
    x_test, y_test = digits_test_set()
    inputs = keras.Input((8, 8, 1), name="input")
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    x = flatten(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    x = keras.layers.Dense(10)(x)
    model = keras.Model(inputs, keras.layers.Softmax()(x), name="digits")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=BATCH, epochs=EPOCHS, shuffle=True, verbose=0)
    float_accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))
    rng = np.random.default_rng(seed)
    calibration = [x_train[i:i + 1] for i in rng.choice(len(x_train), CALIBRATION_SAMPLES, replace=False)]
    info = {"dataset": "sklearn.datasets.load_digits", "train_samples": len(y_train),
            "test_samples": len(y_test), "split_seed": SPLIT_SEED, "epochs": EPOCHS,
            "float_test_accuracy": float_accuracy}

    def evaluate(tflite: bytes) -> dict[str, Any]:
        return {"int8_test_accuracy": int8_accuracy(tflite, x_test, y_test)}

    return Recipe(model, calibration, info, evaluate)
