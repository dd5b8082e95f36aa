"""The rest of the lecture as live sheets: neuron, perceptron, linearity, activations, prediction
error, linear regression with the normal equation, and gradient descent.

One module per sheet kind (see `common` for the protocol every module follows); `template`
reads lecture templates, `book` writes the workbook, `gradable` tells the grader how to grade
the two graded sheets.
"""
