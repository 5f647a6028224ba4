"""CNN Playground's core library, in layers that import only downward:

    views                 figures and words for the pages
    explain | jobs        looking inside networks | the server's trainings (line, processes)
    training              one training run
    models                Keras models: built, classified with, uploaded, transferred
    data                  data sets and pictures from outside, read safely
    spec                  the network and its settings as plain data (no Keras)

`tests/test_architecture.py` checks the layers (import-linter's contract in pyproject.toml).
Nothing here imports Streamlit, and importing a package does not import TensorFlow:
modules that need Keras import it themselves, so the app's home page starts fast.
"""
