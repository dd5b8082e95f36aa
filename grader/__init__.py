"""manualml's grader: submitted workbooks -> weights -> NumPy recompute -> gradebook and feedback."""
