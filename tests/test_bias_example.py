"""The bias lesson works as the page says: trained on bags on grass and sneakers on a floor,
the network calls a sneaker on grass a bag, and Grad-CAM finds it looking at the grass."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from playground.data.own_images import model_input
from playground.data.own_samples import GRASS, bias_example, bias_trials
from playground.explain.grad_cam import explain_prediction
from playground.jobs.job import TrainingJob
from playground.models.building import Classifier
from playground.models.own_networks import own_model, start_settings


@pytest.mark.slow
def test_the_network_learns_the_background_and_grad_cam_shows_it():
    images = bias_example()
    settings = start_settings("scratch", epochs=30)
    job = TrainingJob(own_model("scratch", 2, settings), images.dataset(settings.seed), settings,
                      separate_process=False)
    job.start()
    assert job.join(300)
    assert job.snapshot().evaluation.accuracy == 1.0, "the held-out pictures share the bias, so all pass"
    classifier = Classifier(job.model, "biased", images.class_names)
    (_, sneaker_on_grass), (_, bag_on_floor) = bias_trials()
    probabilities, heatmap = explain_prediction(classifier, model_input(sneaker_on_grass))
    assert images.class_names[int(np.argmax(probabilities))] == "bag"
    probabilities, _ = explain_prediction(classifier, model_input(bag_on_floor))
    assert images.class_names[int(np.argmax(probabilities))] == "sneaker"
    side = sneaker_on_grass.shape[0]
    heat = Image.fromarray(np.uint8(heatmap * 255)).resize((side, side), Image.Resampling.BILINEAR)
    heat = np.asarray(heat)
    background = (sneaker_on_grass == np.asarray(GRASS, np.uint8)).all(axis=-1)
    item = ~background
    assert heat[background].mean() > heat[item].mean(), (heat[background].mean(), heat[item].mean())
