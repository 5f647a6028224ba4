"""AppTest runs of Build & Train: the builder, settings, a real (tiny) training, and files."""

import time

import numpy as np
import pytest
from conftest import open_app_page, save_in_keras_layout
from streamlit.testing.v1 import AppTest
from test_app import APP, TIMEOUT, run_like_a_started_server  # noqa: F401 - an autouse fixture

from playground.models.building import build_model, model_bytes
from playground.spec.presets import FAST_DEFAULT_TRAINING, preset

PAGE = "pages/build_train.py"
# Conv 24 (5·5·1·24 + 24), BN 4·24, conv 32 (3·3·24·32 + 32), BN 4·32, dense 128 on 5·5·32, dense 10
FAST_DEFAULT_PARAMETERS = 624 + 96 + 6_944 + 128 + (800 * 128 + 128) + (128 * 10 + 10)
TRAINING_TIMEOUT = 180


@pytest.fixture(scope="module")
def small_data_dir(tmp_path_factory, squares):
    """MNIST and Fashion-MNIST files in Keras' layout, made from the tests' own squares."""
    folder = tmp_path_factory.mktemp("data")
    for file_name in ("mnist.npz", "fashion_mnist.npz"):
        save_in_keras_layout(squares, folder / file_name)
    return folder


@pytest.fixture
def page(small_data_dir, monkeypatch) -> AppTest:
    from pages.parts.common import dataset
    from playground.data.loading import DATA_DIR_VARIABLE

    monkeypatch.setenv(DATA_DIR_VARIABLE, str(small_data_dir))
    dataset.clear()  # other tests' real MNIST must not be served from the shared cache, nor these later
    yield open_app_page(PAGE)
    dataset.clear()


def widget(widgets, label):
    return next(item for item in widgets if item.label == label)


def train_button(app):
    return next(button for button in app.button if button.label == "Train")


def sidebar_status(app) -> str:
    messages = [*app.sidebar.success, *app.sidebar.error]
    return messages[-1].value


def test_starts_from_the_fast_default(page):
    assert sidebar_status(page) == f"9 layers · {FAST_DEFAULT_PARAMETERS:,} parameters"
    assert not train_button(page).disabled
    assert "press **Train**" in page.info[0].value


def test_choosing_a_preset_replaces_the_stack(page):
    widget(page.sidebar.selectbox, "Start from").select("Blog: Dense-only baseline").run()
    assert sidebar_status(page) == "2 layers · 7,850 parameters"


def test_adding_a_layer_that_cannot_work_disables_train(page):
    widget(page.sidebar.selectbox, "New layer").select("Dense").run()
    page.sidebar.button(key="builder_add").click().run()
    assert "must end with 10 values" in sidebar_status(page)
    assert train_button(page).disabled


def test_moving_flatten_above_pooling_names_the_pooling_layer(page):
    flatten_uid = page.session_state["builder_layers"][6]["uid"]
    page.sidebar.button(key=f"up_{flatten_uid}").click().run()
    assert sidebar_status(page).startswith("9 layers"), "batch norm works on a flat vector too"
    page.sidebar.button(key=f"up_{flatten_uid}").click().run()
    assert sidebar_status(page).startswith("Layer 6 (MaxPooling2D) needs an image-shaped input")


def test_removing_the_last_layer(page):
    last_uid = page.session_state["builder_layers"][-1]["uid"]
    page.sidebar.button(key=f"remove_{last_uid}").click().run()
    assert "outputs a 1-D tensor of shape 128" in sidebar_status(page)


def test_editing_a_layer_updates_shapes_and_parameters(page):
    first_uid = page.session_state["builder_layers"][0]["uid"]
    page.sidebar.number_input(key=f"layer_{first_uid}_filters").set_value(16).run()
    # conv 16 (5·5·1·16 + 16), BN 4·16, conv 32 on 16 channels (3·3·16·32 + 32): the rest as before
    expected = FAST_DEFAULT_PARAMETERS - (624 + 96 + 6_944) + (416 + 64 + 4_640)
    assert sidebar_status(page) == f"9 layers · {expected:,} parameters"


def test_a_learning_rate_of_zero_is_refused(page):
    widget(page.number_input, "Learning rate").set_value(0.0).run()
    train_button(page).click().run()
    assert "learning rate must be above 0" in page.error[0].value
    assert "training_job" not in page.session_state


def test_settings_and_stack_survive_a_page_switch(page):
    widget(page.sidebar.selectbox, "Start from").select("Slides: Conv32 → Conv64 → Conv64 → Dense64").run()
    widget(page.number_input, "Epochs").set_value(5).run()
    page.switch_page("pages/draw.py").run()
    page.switch_page(PAGE).run()
    assert widget(page.sidebar.selectbox, "Start from").value.startswith("Slides")
    assert widget(page.number_input, "Epochs").value == 5
    assert sidebar_status(page) == "8 layers · 93,322 parameters"


@pytest.mark.slow
def test_training_a_small_subset_shows_results_and_becomes_the_session_model(page):
    widget(page.number_input, "Training images").set_value(2000).run()
    widget(page.number_input, "Epochs").set_value(1).run()
    widget(page.number_input, "Batch size").set_value(32).run()
    train_button(page).click().run(timeout=TRAINING_TIMEOUT)
    assert not page.exception, page.exception
    metrics = {metric.label: metric.value for metric in page.metric}
    assert float(metrics["Test accuracy"].rstrip("%")) > 50
    job = page.session_state["training_job"]
    assert job.snapshot().state == "finished"
    published = page.session_state["session_classifier"].model
    assert published is not job.model, "Draw and Inspect get a copy, which Continue never trains"
    images = np.random.default_rng(2).random((3, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(published(images)), np.asarray(job.model(images)), rtol=1e-5)
    page.switch_page("pages/draw.py").run()
    assert "Your model" in page.caption[0].value


@pytest.mark.slow
def test_fashion_mnist_trains_end_to_end_with_its_class_names(page):
    widget(page.sidebar.selectbox, "Data set").select("fashion_mnist").run()
    widget(page.number_input, "Training images").set_value(2000).run()
    train_button(page).click().run(timeout=TRAINING_TIMEOUT)
    assert not page.exception, page.exception
    job = page.session_state["training_job"]
    assert job.snapshot().state == "finished" and job.data.name == "fashion_mnist"
    assert widget(page.selectbox, "True class").options[9] == "Ankle boot"
    captions = [picture.caption for image in page.get("image") for picture in image.proto.imgs]
    assert any("→" in caption and any(name in caption for name in ("Sandal", "Bag", "Trouser"))
               for caption in captions), captions[:5]
    classifier = page.session_state["session_classifier"]
    assert classifier.class_names[0] == "T-shirt/top"
    assert "Fashion-MNIST" in classifier.description
    page.switch_page("pages/draw.py").run()
    assert not page.exception


def test_uploading_a_keras_model_makes_it_the_session_model(page):
    raw = model_bytes(build_model(preset("Blog: Dense-only baseline")))
    page.file_uploader(key="model_upload").upload("mine.keras", raw).run()
    assert any("mine\\.keras is now this session's model" in message.value for message in page.success)
    assert page.session_state["session_classifier"].title == "Uploaded model"


def test_an_upload_is_applied_once_and_a_later_training_is_kept(page):
    """The file stays in the uploader; reruns must neither reload it (which would make a new
    classifier) nor replace a newer model with it."""
    raw = model_bytes(build_model(preset("Blog: Dense-only baseline")))
    page.file_uploader(key="model_upload").upload("mine.keras", raw).run()
    uploaded = page.session_state["session_classifier"]
    widget(page.number_input, "Epochs").set_value(2).run()
    widget(page.number_input, "Epochs").set_value(1).run()
    assert page.session_state["session_classifier"] is uploaded
    trained = object()
    page.session_state["session_classifier"] = trained  # what a finished training does
    widget(page.number_input, "Epochs").set_value(2).run()
    assert page.session_state["session_classifier"] is trained
    assert not any("now this session's model" in message.value for message in page.success)


def test_an_uploaded_fashion_model_gets_fashion_class_names(page):
    raw = model_bytes(build_model(preset("Blog: Dense-only baseline")), "fashion_mnist")
    page.file_uploader(key="model_upload").upload("clothes.keras", raw).run()
    assert page.session_state["session_classifier"].class_names[9] == "Ankle boot"
    assert any("Fashion-MNIST's classes (as its file says)" in message.value for message in page.success)


def test_a_file_naming_a_data_set_the_playground_lacks_is_loaded_with_a_note(page):
    from test_uploads import with_metadata

    model = build_model(preset("Blog: Dense-only baseline"))
    raw = with_metadata(model_bytes(model), {"dataset": "imagenet"})
    page.file_uploader(key="model_upload").upload("elsewhere.keras", raw).run()
    assert not page.exception, page.exception
    assert any("from the Data set setting above" in message.value for message in page.success)
    assert any("which this playground does not have" in message.value for message in page.info)


def test_uploading_a_broken_file_says_which_and_why(page):
    page.file_uploader(key="model_upload").upload("notes.keras", b"not a model").run()
    assert page.error[0].value.startswith("notes\\.keras: This is not a Keras model file")
    assert not page.exception


def test_a_file_name_is_shown_as_typed_not_as_markdown(page):
    raw = model_bytes(build_model(preset("Blog: Dense-only baseline")))
    name = "**final** [see here](http://example.com).keras"
    page.file_uploader(key="model_upload").upload(name, raw).run()
    message = next(message.value for message in page.success if "now this session's model" in message.value)
    assert message.startswith("\\*\\*final\\*\\* \\[see here\\]\\(http")
    page.switch_page("pages/draw.py").run()
    assert "\\*\\*final\\*\\*" in page.caption[0].value and "**final**" not in page.caption[0].value


@pytest.mark.slow
def test_training_goes_on_while_the_user_visits_another_page(page, squares):
    from playground.jobs.job import TrainingJob
    from playground.spec.settings import TrainingSettings

    job = TrainingJob(build_model(preset("Fast default")), squares,
                      TrainingSettings(epochs=2, batch_size=16, subset_size=6000))
    page.session_state["training_job"] = job
    job.start()
    try:
        deadline = time.monotonic() + TRAINING_TIMEOUT
        while job.batches_done == 0 and time.monotonic() < deadline:  # the first batch traces the graph
            time.sleep(0.05)
        page.switch_page("pages/draw.py").run()
        assert not page.exception
        batches = job.batches_done
        page.switch_page("pages/home.py").run()
        job.join(1.0)
        assert job.snapshot().state == "running" and job.batches_done > batches
    finally:
        job.request_stop()
        job.join(60)
    assert job.snapshot().state == "stopped"


def test_a_page_back_after_its_training_stopped_without_it_says_so(page, squares, monkeypatch):
    """A WebSocket cut for longer than the grace stops the job; the page, back, must not show
    its last progress as if it still trained (benchmarks/faults.py found it frozen so)."""
    from playground.jobs import job as training
    from playground.jobs.job import TrainingJob
    from playground.spec.settings import TrainingSettings

    monkeypatch.setattr(training, "ORPHAN_GRACE_SECONDS", 0.2)
    job = TrainingJob(build_model(preset("Fast default")), squares,
                      TrainingSettings(epochs=50, batch_size=16, subset_size=6000), separate_process=False)
    connected = [True]
    job.belong_to(page, lambda: connected[0])
    job.start()
    deadline = time.monotonic() + TRAINING_TIMEOUT
    while job.batches_done < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    connected[0] = False  # the page's connection is lost
    assert job.join(TRAINING_TIMEOUT) and job.snapshot().stop_reason == "closed"
    page.session_state["training_job"] = job
    page.session_state["training_dataset"] = "mnist"
    page.run()
    assert not page.exception, page.exception
    assert any("stopped while this page was away" in item.value for item in page.warning)
    assert not widget(page.button, "Train").disabled


@pytest.mark.slow
def test_a_page_opened_on_a_running_training_draws_its_chart_gently_at_first(page, squares):
    """A reload or a page switch mid-run must load its widgets before the chart redraws every
    beat (tests/test_browser_classroom.py shows the page; here, which views count)."""
    from pages.parts.training_live import ARRIVAL_CHART_SECONDS, ARRIVAL_SECONDS, chart_interval
    from playground.jobs.job import TrainingJob
    from playground.spec.settings import TrainingSettings

    view = page.session_state["page_view"]
    assert view.training_at_arrival is False and chart_interval(view) == 0.0  # Train pressed here

    page.switch_page("pages/draw.py").run()
    job = TrainingJob(build_model(preset("Fast default")), squares,
                      TrainingSettings(epochs=1, batch_size=64, subset_size=640))
    page.session_state["training_job"] = job
    page.session_state["training_dataset"] = "mnist"
    job.start()
    page.switch_page(PAGE).run()  # follows the job to its end
    assert not page.exception, page.exception
    view = page.session_state["page_view"]
    assert view.page == "build_train" and view.training_at_arrival
    assert chart_interval(view) == ARRIVAL_CHART_SECONDS
    view.since -= ARRIVAL_SECONDS
    assert chart_interval(view) == 0.0
    page.run()  # a rerun on the same page is the same view
    assert page.session_state["page_view"] is view


@pytest.mark.slow
def test_a_head_trains_on_the_frozen_digit_base_then_fine_tunes(page):
    """Start from the default digit model: the data set turns to Fashion-MNIST, the builder
    holds a new head, the base stays frozen while the head trains, and fine-tuning follows."""
    widget(page.sidebar.selectbox, "Start from a trained network").select("default").run()
    assert not page.exception, page.exception
    assert widget(page.sidebar.selectbox, "Data set").value == "fashion_mnist"
    head = [item["spec"]["type"] for item in page.session_state["builder_layers"]]
    assert head == ["Flatten", "Dense", "Dense"]
    frozen = next(item for item in page.sidebar.expander if "Frozen base" in item.label)
    assert "→ 4 × 4 × 64" in frozen.label
    # Dense 128 on 4·4·64 values (1024·128 + 128), Dense 10 (128·10 + 10)
    assert sidebar_status(page).startswith("Head: 3 layers · 132,490 trainable parameters · ")
    widget(page.number_input, "Training images").set_value(1500).run()
    widget(page.number_input, "Epochs").set_value(1).run()
    train_button(page).click().run(timeout=TRAINING_TIMEOUT)
    assert not page.exception, page.exception
    job = page.session_state["training_job"]
    assert job.snapshot().state == "finished", job.snapshot().error
    from playground.models.building import load_default_classifier
    shipped = load_default_classifier().model
    for name in ("conv2d", "conv2d_3", "batch_normalization_1"):
        pairs = zip(job.model.get_layer(name).weights, shipped.get_layer(name).weights, strict=True)
        for mine, original in pairs:
            np.testing.assert_array_equal(np.asarray(mine), np.asarray(original))
    assert "a new head on The default digit model" in page.session_state["session_classifier"].description
    page.button(key="fine_tune").click().run(timeout=TRAINING_TIMEOUT)
    assert not page.exception, page.exception
    tuned = page.session_state["training_job"]
    assert tuned is not job and tuned.model is job.model
    assert tuned.snapshot().state == "finished"
    assert tuned.settings.learning_rate == pytest.approx(job.settings.learning_rate * 0.1)
    assert not np.array_equal(np.asarray(tuned.model.get_layer("conv2d").kernel),
                              np.asarray(shipped.get_layer("conv2d").kernel)), "fine-tuning trained the base"
    assert not any(item.key == "fine_tune" for item in page.button), "fine-tuned once"
    widget(page.sidebar.selectbox, "Start from a trained network").select("none").run()
    assert sidebar_status(page).startswith("9 layers"), "the whole network comes back"


def test_each_layer_shows_its_multiply_adds_and_the_network_its_total(page):
    labels = [item.label for item in page.sidebar.expander]
    assert labels[0].endswith("→ 24 × 24 × 24 · 624 params · 346 k MACs")  # 24·24·24·25 = 345,600
    assert labels[3].endswith("· 691 k MACs")  # 10·10·32 outputs × 3·3·24 = 691,200
    total = [item for item in page.sidebar.caption if "multiply-adds per image" in item.value][-1]
    # 345,600 + 13,824 + 3,456 + 691,200 + 3,200 + 800 + 0 + 102,400 + 1,280 (the layers above)
    assert total.value.startswith("1.16 M multiply-adds per image · about ")
    assert "MACs** are multiply-adds" in total.proto.help
    table = next(item for item in page.dataframe if "multiply-adds" in item.value.columns).value
    assert int(table["multiply-adds"].iloc[0]) == 345_600


def test_the_url_holds_the_network_and_a_fresh_session_opens_it(small_data_dir, monkeypatch):
    from pages.parts.common import dataset
    from playground.data.loading import DATA_DIR_VARIABLE

    monkeypatch.setenv(DATA_DIR_VARIABLE, str(small_data_dir))
    dataset.clear()
    teacher = AppTest.from_file(APP, default_timeout=TIMEOUT)
    teacher.run()
    teacher.switch_page(PAGE).run()
    widget(teacher.sidebar.selectbox, "Start from").select("Slides: Conv32 → Conv64 → Conv64 → Dense64").run()
    widget(teacher.number_input, "Epochs").set_value(4).run()
    link = {key: teacher.query_params[key] for key in teacher.query_params}
    assert link["net"].startswith("c~p~c-f64") and link["ep"] == "4"
    assert any(item.proto.popover.label == "Copy link" for item in teacher.get("popover"))

    learner = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in link.items():
        learner.query_params[key] = value
    learner.run()
    learner.switch_page(PAGE).run()
    assert not learner.exception, learner.exception
    assert sidebar_status(learner) == "8 layers · 93,322 parameters"
    assert widget(learner.number_input, "Epochs").value == 4
    assert widget(learner.sidebar.selectbox, "Start from").value == "From a shared link"
    assert [item["spec"] for item in learner.session_state["builder_layers"]] == \
        [item["spec"] for item in teacher.session_state["builder_layers"]]
    dataset.clear()


def test_a_hostile_link_leaves_the_default_network_and_says_why():
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.query_params["net"] = "c-f<script>alert(1)</script>~d"
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception
    assert "is not written as the playground writes layers" in app.warning[0].value
    assert "The default network is shown instead" in app.warning[0].value
    assert sidebar_status(app) == f"9 layers · {FAST_DEFAULT_PARAMETERS:,} parameters"


def test_a_link_with_a_fraction_of_an_epoch_is_refused_and_the_page_keeps_working():
    """The Epochs widget is made with an int: a float from a link raised on every rerun."""
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.query_params.update({"net": "f~d-u10-asoftmax", "ep": "2.5"})
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    assert "epochs must be a whole number, not 2.5" in app.warning[0].value
    widget(app.number_input, "Batch size").set_value(64).run()
    assert not app.exception, app.exception
    assert widget(app.number_input, "Epochs").value == FAST_DEFAULT_TRAINING["epochs"]


class RecordingPool:
    """Stands in for the server's training processes: keeps what a page asks them to get ready for."""

    def __init__(self):
        self.likely = []

    def start_one_ahead(self, most, likely=None):
        self.likely.append(likely() if likely is not None else None)


@pytest.mark.slow
def test_opening_the_page_gets_a_process_ready_for_what_train_would_train(small_data_dir, monkeypatch):
    """Build & Train starts a training process ahead and has it trace the network on show, so
    that the first batch after Train comes in a fraction of a second, not after 1-1.5 s."""
    from pages.parts.common import dataset
    from playground.data.loading import DATA_DIR_VARIABLE
    from playground.jobs import process_link, worker_pool
    from playground.jobs.worker import architecture

    monkeypatch.setenv(DATA_DIR_VARIABLE, str(small_data_dir))
    monkeypatch.setattr(process_link, "SEPARATE_PROCESS", True)
    pool = RecordingPool()
    monkeypatch.setattr(worker_pool, "_processes", pool)
    dataset.clear()
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    assert pool.likely == [], "these squares are too few for the default 60,000 images: nothing to get ready"
    widget(app.number_input, "Training images").set_value(2000).run()
    request, data = pool.likely[-1]
    assert request.settings.subset_size == 2000 and data is dataset("mnist"), "what the page shows now"
    widget(app.selectbox, "Start from").set_value("Tutorial: Conv32 → Conv64 → Dense128").run()
    request, _ = pool.likely[-1]
    monkeypatch.setattr(process_link, "SEPARATE_PROCESS", False)  # train here: the pool is a stand-in
    train_button(app).click().run(timeout=TRAINING_TIMEOUT)
    job = app.session_state["training_job"]
    assert request.architecture == architecture(job.model) and request.settings == job.settings
    job.request_stop()
    job.join(TRAINING_TIMEOUT)
    dataset.clear()
