"""Build & Train's link: the network and its training live in the page's URL, a fresh session
opens the network a link describes, and *Copy link* hands the link out."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from pages.parts.builder import SHARED_STACK, load_stack
from playground.spec.links import NETWORK_KEY, SHARED_KEYS, ShareLinkError, link_params, open_link

OPENED_KEY = "shared_link_opened"  # a session opens a link once, when it starts


def open_shared_link(apply_setup) -> None:
    """In a fresh session whose URL holds a network, build that network and take its settings.
    A broken or hostile link leaves the default network and says why, in a line."""
    if st.session_state.get(OPENED_KEY) or "builder_layers" in st.session_state:
        return
    st.session_state[OPENED_KEY] = True
    if NETWORK_KEY not in st.query_params:
        return
    try:
        stack, dataset, training = open_link({key: st.query_params[key] for key in st.query_params})
    except ShareLinkError as error:
        st.warning(f"{error} The default network is shown instead.", icon=":material/link_off:")
        return
    load_stack(stack)
    st.session_state.builder_preset = SHARED_STACK
    apply_setup({"dataset": dataset, "training": training})


def keep_link_current(stack: list[dict], dataset: str, training: dict, shareable: bool) -> dict | None:
    """Write the network into the URL (only what changed), and return its query; a head on a
    trained base cannot travel in a link, so then the keys are taken out."""
    if not shareable:
        for key in SHARED_KEYS:
            if key in st.query_params:
                del st.query_params[key]
        return None
    params = link_params(stack, dataset, training)
    for key, value in params.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value
    return params


def share_button(params: dict | None) -> None:
    with st.popover("Copy link", icon=":material/link:",
                    help="A link to this network and these settings, to put on a slide or send."):
        if params is None:
            st.write("Links share networks built from scratch; a head on a trained base needs that base's "
                     "weights, so download the trained model instead.")
            return
        page = st.context.url.split("?", 1)[0] if st.context.url else ""
        st.code(f"{page}?{urlencode(params)}", language=None, wrap_lines=True)
        st.caption("Use the copy button at the code's top right. Whoever opens the link gets this network "
                   "and these settings, on any server.")
