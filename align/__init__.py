"""Kazakh–Russian sentence alignment: reading, splitting, embedding, aligning, writing.

Importing this package loads no model and touches no network.
"""

__version__ = "0.1.0"
