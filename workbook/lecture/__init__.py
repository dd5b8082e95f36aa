"""The rest of the lecture as live sheets: neuron, perceptron, linearity, activations, prediction
error, linear regression with the normal equation, and gradient descent.

One module per sheet kind (see `common` for the protocol every module follows); `template`
reads lecture templates, `book` writes the workbook. The two graded sheets (linear regression,
perceptron) describe their cells as a `workbook.graded.GradedSheet`, like the manual-ML sheet:
they build from it and the grader checks against it.
"""
