import pytest

from playground.export import keras_script
from playground.layers import PARAMETER_BUDGET, StackError, check_budget, make_layer, trace_shapes
from playground.model import build_model
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
