"""CNN Playground: `streamlit run app.py`.

A small router. Each page is a script in pages/; the home page imports no TensorFlow, so
the app opens fast and pays for TensorFlow only when a page needs it.
"""

import os

import streamlit as st

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of logs

st.set_page_config(page_title="CNN Playground", page_icon=":material/neurology:", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/draw.py", title="Draw", icon=":material/draw:"),
    st.Page("pages/build_train.py", title="Build & Train", icon=":material/model_training:"),
    st.Page("pages/inspect.py", title="Inspect", icon=":material/frame_inspect:"),
    st.Page("pages/how_it_works.py", title="How it works", icon=":material/school:"),
    st.Page("pages/photos.py", title="Photos", icon=":material/photo_camera:"),
]

st.navigation(PAGES).run()
