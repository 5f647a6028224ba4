import numpy as np
import pytest

from playground.export import keras_script
from playground.layers import PARAMETER_BUDGET, StackError, check_budget, make_layer, trace_shapes
from playground.model import build_model, load_uploaded_model, model_bytes
from playground.presets import PRESETS, preset
from playground.training import TrainingSettings


@pytest.mark.parametrize("name", list(PRESETS))
def test_exported_script_rebuilds_the_same_network(name):
    stack = preset(name)
    source = keras_script(stack, TrainingSettings(schedule="warmup_cosine"), "mnist")
    namespace = {}
    exec(compile(source, "exported.py", "exec"), namespace)  # runs the definitions, not main()
    exported = namespace["build_model"]()
    reference = build_model(stack)
    assert exported.count_params() == reference.count_params()
    assert [tuple(layer.output.shape) for layer in exported.layers] == \
        [tuple(layer.output.shape) for layer in reference.layers[1:]]
    assert namespace["EPOCHS"] == 3 and "CosineDecay" in source


def test_model_file_round_trip():
    model = build_model(preset("Blog: Dense-only baseline"))
    loaded = load_uploaded_model(model_bytes(model))
    images = np.random.default_rng(0).random((2, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(loaded(images), model(images), atol=1e-6)


def test_upload_refuses_a_non_keras_file():
    with pytest.raises(ValueError, match="not a Keras model file"):
        load_uploaded_model(b"just some text")


def test_upload_refuses_a_wrong_output_shape():
    import keras

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match=r"outputs shape \(3,\)"):
        load_uploaded_model(model_bytes(model))


def test_upload_refuses_a_wrong_input_shape():
    import keras

    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match=r"takes inputs of shape \(32, 32, 3\)"):
        load_uploaded_model(model_bytes(model))


def test_upload_refuses_a_corrupt_zip():
    raw = model_bytes(build_model(preset("Blog: Dense-only baseline")))
    with pytest.raises(ValueError):
        load_uploaded_model(raw[:200] + bytes(len(raw) - 200))


def test_parameter_budget_refuses_huge_stacks():
    huge = [make_layer("Flatten"), make_layer("Dense", units=8192), make_layer("Dense", units=10)]
    with pytest.raises(StackError, match=f"above the playground's budget of {PARAMETER_BUDGET:,}"):
        check_budget(trace_shapes(huge), batch_size=32)


def test_memory_budget_refuses_huge_activations():
    wide = [make_layer("Conv2D", filters=1024, padding="same"), make_layer("GlobalAveragePooling2D"),
            make_layer("Dense", units=10)]
    check_budget(trace_shapes(wide), batch_size=1)
    with pytest.raises(StackError, match="needs about .* MB"):
        check_budget(trace_shapes(wide), batch_size=4096)
