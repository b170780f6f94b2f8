"""Operators: one ``OpSpec`` per TFLite operator the compiler supports, one module per operator or family.

``base.OpSpec`` says what an operator is; ``registry`` collects every module's ``OPS``; ``checks``,
``emit`` and ``overlap`` hold what several operators share; ``cheader`` writes the C enum, name table and
dispatch cases from the registry. The model layer (loader, support check) and the firmware layer
(codegen, planner, build) read the registry and keep no operator lists of their own. This package
imports only ``harness.model.graph``, ``harness.model.quant`` and ``harness.errors``.
"""
