"""The export's one error, importable without pyarrow (the CLI lists it among the errors
it reports in one line; pyarrow is imported only when an export runs)."""


class ExportError(Exception):
    """An export that cannot be done as asked (one line for the user)."""
