"""hpo-course: hyperparameter optimisation of a Keras MLP, taught with fresh evidence."""

__version__ = "0.1.0"
