"""netgen: the national e-government extranet (政务外网) as code.

The public API is a handful of plain functions, one per stage; the CLI is a thin layer on them.
"""
__version__ = "0.1.0"

from .intent.validate import Validation, validate  # noqa: E402

__all__ = ["validate", "Validation", "__version__"]
