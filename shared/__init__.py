"""The contract between inference-ui-api and inference-service: models, error codes, encoders.

Plain Python (no `workers`, `js` or `pyodide` imports): it runs in both workers and on CPython.
"""

__version__ = "0.1.0"
