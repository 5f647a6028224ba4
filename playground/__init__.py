"""CNN Playground's core library: data, networks, training and inspection.

Nothing in this package imports Streamlit, and importing the package itself does not
import TensorFlow: modules that need Keras import it themselves, so the app's home page
starts fast.
"""
