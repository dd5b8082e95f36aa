"""manualml's generator: assignment templates -> live "Manual Machine Learning" workbooks."""

LAYOUT_VERSION = "manualml-layout-2"  # 2: live Points cell, Improvement cut by TRUNC (not rounded)
LECTURE_LAYOUT_VERSION = "manualml-lecture-2"  # lecture workbooks (workbook.lecture); 2: Points cells
PROPERTY_PREFIX = "manualml_"  # custom document properties of the stamp: manualml_layout, manualml_assignment, ...
