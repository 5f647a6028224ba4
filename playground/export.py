"""A layer stack and its training settings as a short, runnable Keras script."""

from __future__ import annotations

from playground.layers import normalize_stack
from playground.model import BATCH_NORM_MOMENTUM
from playground.training import SGD_MOMENTUM, TrainingSettings

OPTIMIZER_CODE = {
    "adam": "keras.optimizers.Adam(learning_rate)",
    "sgd": f"keras.optimizers.SGD(learning_rate, momentum={SGD_MOMENTUM})",
    "rmsprop": "keras.optimizers.RMSprop(learning_rate)",
}


def layer_code(spec: dict) -> str:
    settings = ", ".join(f"{name}={value!r}" for name, value in spec.items()
                         if name != "type" and not (name == "strides" and value is None))
    if spec["type"] == "BatchNormalization":
        settings = f"momentum={BATCH_NORM_MOMENTUM}"
    return f"keras.layers.{spec['type']}({settings})"


def keras_script(stack: list[dict], settings: TrainingSettings, dataset: str = "mnist") -> str:
    """Python source that rebuilds the stack and trains it as the playground would."""
    layers = "\n".join(f"        {layer_code(spec)}," for spec in normalize_stack(stack))
    if settings.schedule == "warmup_cosine":
        rate = ("keras.optimizers.schedules.CosineDecay(\n"
                "        0.0, steps, warmup_target=LEARNING_RATE, warmup_steps=max(1, steps // 20))")
    else:
        rate = "LEARNING_RATE"
    subset = "None" if settings.subset_size is None else str(settings.subset_size)
    return f'''"""Exported from CNN Playground: the same network and training settings, in plain Keras."""

import keras

EPOCHS = {settings.epochs}
BATCH_SIZE = {settings.batch_size}
LEARNING_RATE = {settings.learning_rate!r}
VALIDATION_SPLIT = {settings.validation_split!r}
SUBSET_SIZE = {subset}  # None: all training images


def build_model():
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
{layers}
    ])


def main():
    (x_train, y_train), (x_test, y_test) = keras.datasets.{dataset}.load_data()
    x_train, x_test = x_train[..., None] / 255.0, x_test[..., None] / 255.0
    x_train, y_train = x_train[:SUBSET_SIZE], y_train[:SUBSET_SIZE]
    model = build_model()
    steps = EPOCHS * -(-round(len(x_train) * (1 - VALIDATION_SPLIT)) // BATCH_SIZE)
    learning_rate = {rate}
    model.compile(optimizer={OPTIMIZER_CODE[settings.optimizer]},
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits={_from_logits(stack)}),
                  metrics=["accuracy"])
    model.summary()
    model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS, validation_split=VALIDATION_SPLIT)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy {{accuracy:.4f}}, test loss {{loss:.4f}}")


if __name__ == "__main__":
    main()
'''


def _from_logits(stack: list[dict]) -> bool:
    last = normalize_stack(stack)[-1]
    return last.get("activation") not in ("softmax", "sigmoid")
