"""Home: what the playground offers. Imports no TensorFlow, so the app opens fast."""

import streamlit as st

from pages.parts.page_list import PAGES
from pages.parts.streamlit_private import route_through_app
from playground.spec.datasets import CATALOGUE

INTRODUCTION = """
A hands-on playground for **convolutional neural networks** (CNNs), the kind of network
that reads handwriting and recognises photos. It runs on a server that a whole class can
share: each learner's networks, trainings and pictures belong to their own browser session,
and there is nothing to install.
"""
DATASET_TITLES = ", ".join(info.title for info in CATALOGUE[:-1]) + f" or {CATALOGUE[-1].title}"


def show_introduction() -> None:
    st.title("CNN Playground")
    st.markdown(INTRODUCTION)


def show_sections() -> None:
    for page in PAGES:
        if page.summary:
            with st.container(border=True):
                st.page_link(page.path, label=page.title, icon=page.icon)
                st.write(page.summary.format(datasets=DATASET_TITLES))


route_through_app()
show_introduction()
show_sections()
