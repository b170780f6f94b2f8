"""Keras definitions of the four MLPerf Tiny reference architectures, untrained.

Written from the published architecture descriptions (layer types, widths, kernels, strides), so that
the int8 ``.tflite`` the converter makes has the operators, shapes, parameters and MACs of the
official files (DESIGN §6) layer by layer. Batch norms follow each convolution as in the published
networks; the converter folds them into the convolution's weights and bias, and a ReLU after them
becomes the convolution's fused activation. Dropout is left out: it is the identity at inference.

Each ``NAME(seed)`` returns a ``Recipe``: the Keras model, its weights drawn after
``keras.utils.set_random_seed(seed)``, and a calibration set for the converter of float32 samples of the
input's shape drawn with ``numpy.random.default_rng(seed)``. Image inputs are drawn on
the official input range, so the built ``vww01`` takes pixel/255 and ``ic01`` raw pixels, quantized
exactly as the official files (scale 1/255 and 1.0, zero point -128); ``kws01`` and ``ad01`` take
standard normal features. TensorFlow is imported inside the functions only: run them in the
``harness.model.keras_models`` subprocess.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.model.keras_models import Recipe

CALIBRATION_SAMPLES = 32


def _calibration(shape: tuple[int, ...], seed: int, low: float | None = None,
                 high: float | None = None) -> list[np.ndarray[Any, Any]]:
    """Seeded float32 samples of ``[1, *shape]``: uniform over [low, high] with both ends present
    (so the input's quantization is exactly (high - low) / 255), or standard normal without a range."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(CALIBRATION_SAMPLES):
        if low is None or high is None:
            x = rng.standard_normal((1, *shape))
        else:
            x = rng.uniform(low, high, (1, *shape))
            if i == 0:
                x.flat[0], x.flat[1] = low, high
        samples.append(x.astype(np.float32))
    return samples


def _bias() -> Any:
    """Small random biases: a zero bias of a FULLY_CONNECTED is dropped by the converter, and random
    ones exercise the bias path of the int8 kernels as a trained model's would."""
    import keras

    return keras.initializers.RandomNormal(stddev=0.1)


def _batch_norm() -> Any:
    """Batch norm with random scale, offset and statistics (as if trained), so that its folding gives
    each output channel its own weight scale."""
    import keras

    return keras.layers.BatchNormalization(
        gamma_initializer=keras.initializers.RandomUniform(0.5, 1.5),
        beta_initializer=keras.initializers.RandomNormal(stddev=0.1),
        moving_mean_initializer=keras.initializers.RandomNormal(stddev=0.1),
        moving_variance_initializer=keras.initializers.RandomUniform(0.5, 1.5))


def _conv_bn_relu(x: Any, filters: int, kernel: int | tuple[int, int], strides: int = 1,
                  relu: bool = True) -> Any:
    import keras

    x = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", bias_initializer=_bias())(x)
    x = _batch_norm()(x)
    return keras.layers.ReLU()(x) if relu else x


def _depthwise_separable(x: Any, filters: int, strides: int = 1) -> Any:
    """Depthwise 3x3 (stride ``strides``), BN, ReLU, then pointwise 1x1 to ``filters``, BN, ReLU."""
    import keras

    x = keras.layers.DepthwiseConv2D(3, strides=strides, padding="same", bias_initializer=_bias())(x)
    x = _batch_norm()(x)
    x = keras.layers.ReLU()(x)
    return _conv_bn_relu(x, filters, 1)


def flatten(x: Any) -> Any:
    """A RESHAPE to ``[-1, features]``. The batch stays dynamic, as in the official files: Keras'
    Flatten would compute the batch with SHAPE ops, and with a static batch the converter drops a
    RESHAPE that feeds a FULLY_CONNECTED (which flattens its input itself)."""
    import keras

    features = 1
    for d in x.shape[1:]:
        features *= d
    return keras.layers.Lambda(lambda t: keras.ops.reshape(t, (-1, features)), name="flatten")(x)


def _classifier_head(x: Any, classes: int) -> Any:
    """Global average pool as one AVERAGE_POOL_2D over the whole map, RESHAPE, FULLY_CONNECTED, SOFTMAX."""
    import keras

    x = keras.layers.AveragePooling2D(pool_size=tuple(x.shape[1:3]))(x)
    x = flatten(x)
    x = keras.layers.Dense(classes, bias_initializer=_bias())(x)
    return keras.layers.Softmax()(x)


def kws01(seed: int) -> Recipe:
    """DS-CNN (small) keyword spotting: 49x10 MFCC in, 12 classes. A 10x4 stride-2 conv to 64
    channels, four depthwise-separable blocks of 64 (3x3 depthwise), average pool, dense, softmax."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((49, 10, 1), name="input")
    x = _conv_bn_relu(inputs, 64, (10, 4), strides=2)
    for _ in range(4):
        x = _depthwise_separable(x, 64)
    model = keras.Model(inputs, _classifier_head(x, 12), name="kws01")
    return Recipe(model, _calibration((49, 10, 1), seed))


# MobileNetV1 at width 0.25: (pointwise filters, depthwise stride) of its 13 separable blocks
_MOBILENET_V1_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                        (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


def vww01(seed: int, alpha: float = 0.25) -> Recipe:
    """MobileNetV1 (width ``alpha``) visual wake words: 96x96 RGB in, 2 classes. A 3x3 stride-2 conv
    to 32*alpha channels, 13 depthwise-separable blocks, average pool, dense, softmax; ReLU throughout."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((96, 96, 3), name="input")
    x = _conv_bn_relu(inputs, int(32 * alpha), 3, strides=2)
    for filters, strides in _MOBILENET_V1_BLOCKS:
        x = _depthwise_separable(x, int(filters * alpha), strides)
    model = keras.Model(inputs, _classifier_head(x, 2), name="vww01")
    return Recipe(model, _calibration((96, 96, 3), seed, 0.0, 1.0))


def _residual_stack(x: Any, filters: int, strides: int) -> Any:
    """Two 3x3 convs (the first with ``strides``), added to the input, then ReLU. When the shape
    changes, the input goes through a 1x1 conv of the same stride first (no batch norm)."""
    import keras

    y = _conv_bn_relu(x, filters, 3, strides=strides)
    y = _conv_bn_relu(y, filters, 3, relu=False)
    if strides != 1 or x.shape[-1] != filters:
        x = keras.layers.Conv2D(filters, 1, strides=strides, padding="same", bias_initializer=_bias())(x)
    x = keras.layers.Add()([x, y])
    return keras.layers.ReLU()(x)


def ic01(seed: int) -> Recipe:
    """ResNet-8 for CIFAR-10: 32x32 RGB in, 10 classes. A 3x3 conv to 16 channels, three residual
    stacks of 16, 32 and 64 filters (stride 1, 2, 2), average pool, dense, softmax."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((32, 32, 3), name="input")
    x = _conv_bn_relu(inputs, 16, 3)
    for filters, strides in ((16, 1), (32, 2), (64, 2)):
        x = _residual_stack(x, filters, strides)
    model = keras.Model(inputs, _classifier_head(x, 10), name="ic01")
    return Recipe(model, _calibration((32, 32, 3), seed, 0.0, 255.0))


def ad01(seed: int) -> Recipe:
    """The fully connected autoencoder for anomaly detection: 640 in (5 frames x 128 mel bins), four
    dense 128, a bottleneck of 8, four dense 128 (each with batch norm and ReLU), a linear dense 640."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((640,), name="input")
    x = inputs
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = keras.layers.Dense(units, bias_initializer=_bias())(x)
        x = _batch_norm()(x)
        x = keras.layers.ReLU()(x)
    model = keras.Model(inputs, keras.layers.Dense(640, bias_initializer=_bias())(x), name="ad01")
    return Recipe(model, _calibration((640,), seed))


ARCHS = {"kws01": kws01, "vww01": vww01, "ic01": ic01, "ad01": ad01}
