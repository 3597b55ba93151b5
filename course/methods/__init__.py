"""The course's own methods, one module per slug. Each declares a `course.study.Method` and
is registered in `pyproject.toml` under the `course.methods` entry-point group."""
