"""The app's pages, stated once: app.py's navigation and Home's overview are made from this.
Imports no TensorFlow: Home opens fast."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PageInfo:
    path: str
    title: str
    icon: str
    summary: str  # what Home says of it; empty for Home itself


PAGES = (
    PageInfo("pages/home.py", "Home", ":material/home:", ""),
    PageInfo("pages/lessons.py", "Lessons", ":material/route:",
             "Follow a lesson: short steps that open the right page with a network ready, and goals the "
             "app checks by itself (an accuracy, a size, a question). Or upload your own lesson."),
    PageInfo("pages/board.py", "Class board", ":material/leaderboard:",
             "A teacher opens a room with a challenge; learners join with a nickname, and every training "
             "they finish posts its result. The board ranks the room and updates by itself."),
    PageInfo("pages/draw.py", "Draw", ":material/draw:",
             "Draw a digit with your mouse or finger and watch a CNN classify it, stroke by stroke. "
             "See the 28×28 image the network actually receives."),
    PageInfo("pages/build_train.py", "Build & Train", ":material/model_training:",
             "Stack convolution, pooling, dense layers and residual blocks in the sidebar, then train "
             "the network on {datasets} and watch its loss and accuracy move, batch by batch. Or start "
             "from a trained network, and share yours by link."),
    PageInfo("pages/own_images.py", "Your images", ":material/add_photo_alternate:",
             "Collect your own classes of pictures (files, a zip, the camera or the sample set), train a "
             "CNN on them, try it with a heatmap of where it looked, and follow your pictures inside."),
    PageInfo("pages/inspect.py", "Inspect", ":material/frame_inspect:",
             "Follow one image through the network: every feature map, what pooling keeps, the "
             "flattened vector and the final probabilities. See the filters the network learned."),
    PageInfo("pages/how_it_works.py", "How it works", ":material/school:",
             "Slide a 3×3 kernel over an image step by step, pool a feature map, and compare "
             "activation functions and their gradients."),
    PageInfo("pages/photos.py", "Photos", ":material/photo_camera:",
             "Upload photos and see ResNet50's three best guesses among 1,000 ImageNet classes, "
             "and which part of each photo drove its answer."),
)

# How lessons name a page: its file's name, as Streamlit's URL does (/build_train).
PAGE_NAMES = tuple(Path(page.path).stem for page in PAGES)
