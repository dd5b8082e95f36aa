"""The shape of a network and the names of its neurons and parameters.

Names are shared by the sheet (defined names such as ``w_in1_h1``), the templates
(``[weights]`` keys) and the grader, so they are made in exactly one place: here.
Every name starts with ``w_`` or ``b_`` and contains ``_``, so it can never be read as a
cell reference (``h1``, ``in1`` and ``out1`` are cells in Excel and LibreOffice).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

ACTIVATIONS = ("relu", "sigmoid", "tanh", "linear", "step")
ACTIVATION_TITLES = {"relu": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh", "linear": "linear", "step": "step"}


@dataclass(frozen=True)
class Neuron:
    """One neuron: where its inputs come from and what it applies."""

    label: str  # "h1", "h2_3", "out"
    layer: int  # 1 = first hidden layer (or the output when there is none)
    sources: tuple[str, ...]  # labels of the neurons/inputs feeding it, in formula order
    activation: str

    def weight_name(self, source: str) -> str:
        return f"w_{source}_{self.label}"

    @property
    def bias_name(self) -> str:
        return f"b_{self.label}"

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return (*(self.weight_name(s) for s in self.sources), self.bias_name)


@dataclass(frozen=True)
class Network:
    """Inputs -> hidden layers -> one output neuron."""

    n_inputs: int
    hidden: tuple[int, ...] = ()  # neurons per hidden layer; () is linear regression
    activations: tuple[str, ...] = ()  # one per hidden layer
    output_activation: str = "linear"

    @cached_property
    def input_labels(self) -> tuple[str, ...]:
        return tuple(f"in{i}" for i in range(1, self.n_inputs + 1))

    def layer_labels(self, layer: int) -> tuple[str, ...]:
        """Labels of hidden layer `layer` (1-based): h1, h2 for one layer as in the lecture, else h2_3."""
        size = self.hidden[layer - 1]
        if len(self.hidden) == 1:
            return tuple(f"h{j}" for j in range(1, size + 1))
        return tuple(f"h{layer}_{j}" for j in range(1, size + 1))

    @cached_property
    def layers(self) -> tuple[tuple[Neuron, ...], ...]:
        """Every computing layer, hidden ones first, the output last (built once: grading a file asks often)."""
        out = []
        sources = self.input_labels
        for layer, act in enumerate(self.activations, start=1):
            labels = self.layer_labels(layer)
            out.append(tuple(Neuron(lbl, layer, sources, act) for lbl in labels))
            sources = labels
        out.append((Neuron("out", len(self.hidden) + 1, sources, self.output_activation),))
        return tuple(out)

    @cached_property
    def neurons(self) -> tuple[Neuron, ...]:
        return tuple(n for layer in self.layers for n in layer)

    @property
    def output(self) -> Neuron:
        return self.layers[-1][0]

    def parameter_names(self) -> list[str]:
        """All weights and biases, neuron by neuron, in the order the sheet shows them."""
        return list(self._parameter_names)

    @cached_property
    def _parameter_names(self) -> tuple[str, ...]:  # listed once a network: a class set draws each student's
        return tuple(p for n in self.neurons for p in n.parameter_names)

    @property
    def shape(self) -> str:
        return "-".join(str(s) for s in (self.n_inputs, *self.hidden, 1))
