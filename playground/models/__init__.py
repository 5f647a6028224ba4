"""Keras models: built from specs, the classifier a session uses, transfer bases, and model
files (downloads and checked uploads). Imports spec and data.
"""
