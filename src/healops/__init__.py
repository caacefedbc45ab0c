"""healops: a self-healing IT service management engine.

The loop: observe -> detect -> correlate -> diagnose -> plan -> policy -> act -> verify -> learn.
Each stage is a package with its interface in ``base.py``; ``healops.bootstrap`` wires them.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
