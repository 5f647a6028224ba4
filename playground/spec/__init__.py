"""The network and its training as plain data: layer specs, presets, costs, training
settings, share links, the data sets' catalogue, activation functions. No Keras, no
TensorFlow: the sidebar and the links check everything here on every rerun.
"""
