"""The playground's colours, stated once: every figure, picture and diagram takes them from here."""

HIGHLIGHT = "#e4572e"  # what to look at: the best class, the sliding window, validation
BAR = "#8fa7c9"  # the rest: other classes, padding, raw batch values, diagram edges
LINE = "#3b5b92"  # a smoothed curve
EMPTY = "#eef0f4"  # cells not computed yet
NODE = "#eef2f8"  # a diagram's layer boxes
INPUT_NODE = "#f6f6f6"  # a diagram's input box
GRID, AXIS, TEXT = "#e6e6e6", "#999", "#555"  # the live chart's grid lines, axes and labels
SERIES = (HIGHLIGHT, "#4c72b0", "#55a868", "#8172b2", "#ccb974", "#64b5cd", "#937860")  # one per curve
INK, PAPER = "#ffffff", "#000000"  # Draw's canvas: white strokes on black, as MNIST's digits are
