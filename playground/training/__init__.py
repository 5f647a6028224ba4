"""One training run: compiling, the input pipeline and augmentation, `fit` with its reports,
batch-norm recalibration, the filters' history, the test-set evaluation, and the same
training as an exported script. Knows nothing of the server or its pages.
"""
