"""One exception type for everything a user can get wrong.

The CLI turns a ``UserError`` into a single line on stderr and exit code 2;
anything else is a bug and keeps its traceback.
"""


class UserError(Exception):
    """Bad input from the user: missing files, wrong kinds, impossible edits."""
