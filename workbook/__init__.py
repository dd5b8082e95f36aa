"""manualml's generator: assignment templates -> live "Manual Machine Learning" workbooks."""

LAYOUT_VERSION = "manualml-layout-1"
