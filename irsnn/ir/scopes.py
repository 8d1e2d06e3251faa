"""What each code block of an IR node may name: the bridge between the IR and the language.

Requires: the language (:mod:`irsnn.lang`: parser, checker, types). Provides the scopes and
checkers of each block kind: :func:`neuron_scope` / :func:`check_neuron` (a
:class:`CheckedNeuron`), :func:`psm_scope` / :func:`check_psm`, :func:`learning_scope` /
:func:`check_learning` and :func:`optimiser_scope` / :func:`check_optimiser`.

Neuron blocks run in one scope, in order ``sim_code``, ``threshold_code``,
``negative_threshold_code``, ``reset_code``; top-level locals of an earlier block are visible in
the later ones (GeNN semantics: PoissonInput's threshold uses a local of its sim code).
Postsynaptic code sees ``inSyn``, its own parameters and variables, the target's ``Isyn`` and
additional input variables, and the intrinsic ``injectCurrent(x)`` (``Isyn += x``).
"""

from __future__ import annotations

from dataclasses import dataclass

from irsnn.lang.checker import check
from irsnn.lang.errors import LangError, Where
from irsnn.lang.parser import parse_expression, parse_statements
from irsnn.lang.types import FunctionSig, Scope, Symbol

#: code blocks of a neuron group: (payload field, is an expression)
NEURON_BLOCKS = (("sim_code", False), ("threshold_code", True),
                 ("negative_threshold_code", True), ("reset_code", False))

_BUILTINS = (Symbol("t", "scalar", "builtin"), Symbol("dt", "scalar", "builtin"),
             Symbol("id", "unsigned int", "builtin"), Symbol("batch", "unsigned int", "builtin"),
             Symbol("num_neurons", "unsigned int", "builtin"),
             Symbol("num_batch", "unsigned int", "builtin"))


def neuron_scope(pop, precision="float") -> Scope:
    """Scope of a :class:`~irsnn.ir.NeuronGroup`'s code blocks."""
    scope = Scope(precision=precision).with_math().with_rng()
    scope.add(*_BUILTINS, Symbol("Isyn", "scalar", "builtin"))
    for name, typ, _ in pop.additional_input_vars:
        scope.add(Symbol(name, typ, "builtin"))
    for p in pop.params:
        scope.add(Symbol(p.name, p.type, "param"))
    for v in pop.vars:
        scope.add(Symbol(v.name, v.type, "var", writable=v.access == "readwrite"))
    for e in pop.egps:
        scope.add(Symbol(e.name, e.type.rstrip("*").strip(), "egp", is_array=e.type.endswith("*")))
    return scope


def psm_scope(syn, target, precision="float") -> Scope:
    """Scope of a :class:`~irsnn.ir.SynapseGroup`'s postsynaptic code."""
    scope = Scope(precision=precision).with_math()
    scope.add(*_BUILTINS, Symbol("inSyn", "scalar", "var", writable=True),
              Symbol("Isyn", "scalar", "builtin", writable=True),
              FunctionSig("injectCurrent", ("scalar",), "void", "intrinsic"))
    for name, typ, _ in target.additional_input_vars:
        scope.add(Symbol(name, typ, "builtin", writable=True))
    for p in syn.psm_params:
        scope.add(Symbol(p.name, p.type, "param"))
    for v in syn.psm_vars:
        scope.add(Symbol(v.name, v.type, "var", writable=v.access == "readwrite"))
    return scope


@dataclass
class CheckedNeuron:
    """The checked code blocks of one neuron group (``None`` for an empty block)."""

    sim_code: object
    threshold_code: object
    negative_threshold_code: object
    reset_code: object


def check_neuron(nid, pop, precision="float") -> CheckedNeuron:
    """Parse and check every block of ``pop``; errors name the population and the block."""
    scope = neuron_scope(pop, precision)
    owner = f"Population '{pop.name}' ({pop.model_name})" + \
        (f" created at {pop.location}" if pop.location else "")
    out = {}
    for field, is_expr in NEURON_BLOCKS:
        code = getattr(pop, field)
        if not code.strip():
            out[field] = None
            continue
        where = Where(owner, field)
        tree = parse_expression(code, where) if is_expr else parse_statements(code, where)
        checked = check(tree, scope, where)
        if is_expr and checked.types[id(tree)] != "bool":
            # a condition must be a truth value on every backend (C would take any number)
            raise LangError(where, getattr(tree, "line", 0), getattr(tree, "col", 0),
                            f"the condition has type {checked.types[id(tree)]}, not bool",
                            "write a comparison such as 'V >= Vthresh'", code)
        scope = checked.scope_after
        out[field] = checked
    return CheckedNeuron(**out)


def check_psm(syn, target, precision="float"):
    """Parse and check a synapse group's postsynaptic code (``None`` when empty)."""
    if not syn.psm_code.strip():
        return None
    owner = f"Connection '{syn.name}' ({syn.psm_name})" + \
        (f" created at {syn.location}" if syn.location else "")
    where = Where(owner, "postsynaptic code")
    return check(parse_statements(syn.psm_code, where), psm_scope(syn, target, precision),
                 where)


def learning_scope(syn, target, precision="float") -> Scope:
    """Scope of a synapse group's learning code (:class:`~irsnn.ir.SynapseDynamics`)."""
    lr = syn.learning
    scope = Scope(precision=precision).with_math()
    scope.add(Symbol("t", "scalar", "builtin"), Symbol("dt", "scalar", "builtin"),
              Symbol(f"{lr.pre_trace}_pre", "scalar", "var"))
    for p in lr.params:
        scope.add(Symbol(p.name, p.type, "param"))
    for v in lr.vars:
        scope.add(Symbol(v.name, v.type, "var", writable=v.access == "readwrite"))
    for v in target.vars:
        scope.add(Symbol(f"{v.name}_post", v.type, "var"))
    return scope


def check_learning(syn, target, precision="float"):
    """Parse and check a synapse group's learning code (``None`` without learning)."""
    if syn.learning is None:
        return None
    where = Where(f"Connection '{syn.name}' ({syn.learning.kind})", "learning code")
    return check(parse_statements(syn.learning.code, where),
                 learning_scope(syn, target, precision), where)


def optimiser_scope(node, param_type="scalar", precision="float") -> Scope:
    """Scope of an :class:`~irsnn.ir.OptimiserNode`'s per-element update code."""
    scope = Scope(precision=precision).with_math()
    scope.add(Symbol("Param", param_type, "var", writable=True),
              Symbol("Gradient", "scalar", "var"))
    for name in node.state:
        scope.add(Symbol(name, "scalar", "var", writable=True))
    for name in node.scalars:
        scope.add(Symbol(name, "scalar", "param"))
    return scope


def check_optimiser(nid, node, param_type="scalar", precision="float"):
    """Parse and check an optimiser node's update code (``None`` when it has none)."""
    if not node.code.strip():
        return None
    where = Where(f"Optimiser '{nid}' ({node.kind})", "update code")
    return check(parse_statements(node.code, where),
                 optimiser_scope(node, param_type, precision), where)
