"""The one exception type that the CLI turns into a one-line message and exit code 2."""


class CourseError(Exception):
    """Bad input from the user (dataset, profile, option): say what is wrong and how to fix it.

    The message is one line; the CLI prints it without a traceback and exits with code 2.
    """
