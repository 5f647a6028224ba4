"""Training settings as plain data: what a learner may choose, its bounds, and what each
choice means for the optimizer. No Keras here: the share links and the pages read these
without loading TensorFlow.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields, replace

from playground.spec.own_images import OwnImagesRefused, check_augmentations
from playground.spec.refusals import Refused

# With fewer batches than this per epoch, batch norm's moving averages lag the weights
# (see playground.training.batchnorm); above it they have caught up, and the recalibration is skipped.
PRECISE_BATCH_NORM_BELOW = 200
OPTIMIZERS = ("adam", "sgd", "rmsprop")
OPTIMIZER_CLASSES = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}  # in keras.optimizers
OPTIMIZER_LABELS = {"adam": "Adam", "sgd": "SGD with momentum", "rmsprop": "RMSprop"}
SCHEDULES = ("constant", "warmup_cosine", "one_cycle")
SCHEDULE_LABELS = {"constant": "constant", "warmup_cosine": "warm-up + cosine", "one_cycle": "one-cycle"}
WARMUP_SCHEDULES = ("warmup_cosine", "one_cycle")
SGD_MOMENTUM = 0.9
# One-cycle training (Smith & Topin, "Super-convergence", 2018) pairs its high peak learning
# rate with lower momentum. Adam's betas 0.7 and 0.9 are those tuomaso/train_mnist_fast found
# best for one epoch of MNIST; here too they tested better after one epoch than Keras'
# defaults did (means of three seeds).
ONE_CYCLE_MOMENTUM = {"adam": {"beta_1": 0.7, "beta_2": 0.9}, "sgd": {"momentum": 0.85}, "rmsprop": {}}
WARMUP_FRACTION = 0.05
_ADAM, _SGD = ONE_CYCLE_MOMENTUM["adam"], ONE_CYCLE_MOMENTUM["sgd"]
SCHEDULE_HELP = (
    "**constant**: the learning rate throughout. **warm-up + cosine**: it rises from 0 over the first "
    f"{WARMUP_FRACTION:.0%} of the steps, then falls to 0 along a cosine. **one-cycle**: the same, with "
    f"lower momentum (Adam's betas {_ADAM['beta_1']} and {_ADAM['beta_2']}, SGD's momentum "
    f"{_SGD['momentum']}), which keeps a high peak rate stable.")


# The settings' ranges: checked by TrainingSettings.checked, offered by Build & Train's widgets.
EPOCHS_RANGE = (1, 100)
BATCH_SIZE_RANGE = (1, 4096)
LEARNING_RATE_MAX = 1.0  # and above 0
VALIDATION_SPLIT_RANGE = (0.0, 0.5)


class SettingsRefused(Refused):
    """Training settings that cannot work; the message names every problem, in one line."""


@dataclass(frozen=True)
class TrainingSettings:
    epochs: int = 3
    batch_size: int = 128
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    schedule: str = "constant"
    validation_split: float = 0.1
    subset_size: int | None = None  # None: the whole training set
    seed: int = 0  # the weights' initial values and the shuffling order
    augment: bool = False  # augment each training image (for photos; see training.augment)
    augmentations: str = "flip,shift"  # which kinds, when augment: names of own_images.AUGMENTATIONS

    def checked(self, available: int) -> TrainingSettings:
        """These settings if they can work on `available` training images, else ValueError."""
        problems = _wrong_types(self)
        if problems:  # a link or a file gave text, a fraction or a bool where a number belongs
            raise SettingsRefused("Cannot train: " + "; ".join(problems) + ".")
        problems = [*_outside("epochs", self.epochs, EPOCHS_RANGE),
                    *_outside("batch size", self.batch_size, BATCH_SIZE_RANGE)]
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {', '.join(SCHEDULES)}, not {self.schedule!r}")
        if not 0 < self.learning_rate <= LEARNING_RATE_MAX:
            problems.append(f"learning rate must be above 0 and at most {LEARNING_RATE_MAX:g}, "
                            f"not {self.learning_rate}")
        problems += _outside("validation split", self.validation_split, VALIDATION_SPLIT_RANGE)
        try:
            check_augmentations(self.augmentations)
        except OwnImagesRefused as refusal:
            problems.append(str(refusal).rstrip("."))
        subset = available if self.subset_size is None else self.subset_size
        if not 1 <= subset <= available:
            problems.append(f"training subset must be between 1 and {available:,} images, not {subset:,}")
        if problems:
            raise SettingsRefused("Cannot train: " + "; ".join(problems) + ".")
        return replace(self, subset_size=subset)


def _wrong_types(settings: TrainingSettings) -> list[str]:
    """A problem for each setting whose value is not of its kind: a whole number where the
    field is an int (a Streamlit number widget made with an int raises on a float), a finite
    number where it is a float, a name where it is a str."""
    problems = []
    for field in fields(settings):
        value, kind, name = getattr(settings, field.name), field.type, field.name.replace("_", " ")
        if value is None and "None" in kind:
            continue
        if kind.startswith("int") and not _whole(value):
            problems.append(f"{name} must be a whole number, not {value!r}")
        elif kind == "float" and not _finite(value):
            problems.append(f"{name} must be a finite number, not {value!r}")
        elif kind in ("str", "bool") and type(value).__name__ != kind:
            problems.append(f"{name} must be a {'name' if kind == 'str' else 'yes or no'}, not {value!r}")
    return problems


def _whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _finite(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _outside(name: str, value: float, bounds: tuple[float, float]) -> list[str]:
    """[a problem] if `value` lies outside `bounds`, else []."""
    low, high = bounds
    return [] if low <= value <= high else [f"{name} must be between {low:g} and {high:g}, not {value}"]


def augmentation_kinds(settings: TrainingSettings) -> tuple[str, ...]:
    """The kinds of augmentation a training applies: none unless `augment`."""
    return check_augmentations(settings.augmentations) if settings.augment else ()


def training_end(subset_size: int, validation_split: float) -> int:
    """Where training images end in the subset: its last `validation_split` part validates.
    The exported script splits with this very function."""
    return subset_size - round(subset_size * validation_split)


def batches_per_epoch(images: int, batch_size: int) -> int:
    """Batches in one pass over `images`: the last one may be smaller."""
    return math.ceil(images / batch_size)


def warmup_steps(total_steps: int) -> int:
    return max(1, round(total_steps * WARMUP_FRACTION))


def optimizer_arguments(settings: TrainingSettings) -> dict:
    """The optimizer's arguments besides the learning rate."""
    arguments = {"momentum": SGD_MOMENTUM} if settings.optimizer == "sgd" else {}
    if settings.schedule == "one_cycle":
        arguments |= ONE_CYCLE_MOMENTUM[settings.optimizer]
    return arguments
