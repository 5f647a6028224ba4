"""Outside data, read safely: the data sets (Keras' download, local files, IDX, CIFAR-10's
pickles), uploaded pictures and drawings. Imports only playground.spec.
"""
