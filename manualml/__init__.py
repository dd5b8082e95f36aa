"""manualml: the command line and library API above the generator (`workbook`) and the grader (`grader`).

`manualml.api` is the one module that may import both packages; `manualml.cli` parses options
and calls one `api` function per command.
"""
