"""manualml's generator: assignment templates -> live "Manual Machine Learning" workbooks."""

LAYOUT_VERSION = "manualml-layout-1"
LECTURE_LAYOUT_VERSION = "manualml-lecture-1"  # lecture workbooks (workbook.lecture)
PROPERTY_PREFIX = "manualml_"  # custom document properties of the stamp: manualml_layout, manualml_assignment, ...
