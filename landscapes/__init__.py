"""2-D test surfaces for watching optimizers: one Landscape type, a catalog, get() and names().

    >>> import landscapes
    >>> rb = landscapes.get("rosenbrock", b=10)
    >>> float(rb.f([rb.start])[0]), rb.minima
    (6.875, ((1.0, 1.0),))

Definitions, domains and published minima: optimizers.md section 4.
"""

from .catalog import from_spec, get, names, parameters
from .formula import CustomLandscape, FormulaError, from_formula
from .landscape import Landscape, Param

__all__ = ["Landscape", "Param", "from_spec", "get", "names", "parameters", "from_formula",
           "FormulaError", "CustomLandscape"]
