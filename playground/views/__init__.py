"""Figures and words for the pages: Plotly figures, the live training chart as SVG, text
alternatives and small text helpers. Plain arrays in, figures out; the top layer.
"""
