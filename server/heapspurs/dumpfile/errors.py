"""The one error a damaged dump raises."""


class DumpFormatError(Exception):
    """The dump cannot be read: ``offset`` is the byte where reading failed."""

    def __init__(self, offset: int, what: str, path: str | None = None):
        self.offset = offset
        self.what = what
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(f"{where}byte offset {offset}: {what}")
