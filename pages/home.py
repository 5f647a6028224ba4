"""Home: what the playground offers. Imports no TensorFlow, so the app opens fast."""

import streamlit as st

from pages.parts.common import route_through_app

INTRODUCTION = """
A hands-on playground for **convolutional neural networks** (CNNs), the kind of network
that reads handwriting and recognises photos. Everything runs in your browser session;
nothing to install for learners.
"""

SECTIONS = [
    ("pages/draw.py", ":material/draw:", "Draw",
     "Draw a digit with your mouse or finger and watch a CNN classify it, stroke by stroke. "
     "See the 28×28 image the network actually receives."),
    ("pages/build_train.py", ":material/model_training:", "Build & Train",
     "Stack convolution, pooling and dense layers in the sidebar, then train the network on "
     "MNIST or Fashion-MNIST and watch its loss and accuracy move, batch by batch."),
    ("pages/inspect.py", ":material/frame_inspect:", "Inspect",
     "Follow one digit through the network: every feature map, what pooling keeps, the "
     "flattened vector and the final probabilities. See the filters the network learned."),
    ("pages/how_it_works.py", ":material/school:", "How it works",
     "Slide a 3×3 kernel over an image step by step, pool a feature map, and compare "
     "activation functions and their gradients."),
    ("pages/photos.py", ":material/photo_camera:", "Photos",
     "Upload photos and see ResNet50's three best guesses among 1,000 ImageNet classes, "
     "and which part of each photo drove its answer."),
]


def show_introduction() -> None:
    st.title("CNN Playground")
    st.markdown(INTRODUCTION)


def show_sections() -> None:
    for page, icon, title, text in SECTIONS:
        with st.container(border=True):
            st.page_link(page, label=title, icon=icon)
            st.write(text)


route_through_app()
show_introduction()
show_sections()
