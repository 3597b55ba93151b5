"""A run's final model as one file a user can score new rows with: the Keras model, the
preprocessing fitted on the rows it learnt from, and what the rows must look like.

`final-model.zip` holds `model.keras` (Keras' own format), `preprocessing.pkl` (the fitted
scikit-learn step, `course.data.Schema.preprocessor()`, pickled: load only files you trust, as
with any pickle) and `meta.json` (the rows' `Schema`: the feature columns in order, the
categories of the categorical ones, the target column and its labels in the model's class
order). `course predict` reads it; nothing else of the course is needed.
"""

from __future__ import annotations

import json
import pickle
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from course.data import Schema
from course.errors import CourseError

if TYPE_CHECKING:
    import keras
    import pandas as pd

FINAL_MODEL = "final-model.zip"  # a run's final model, in its folder
MODEL, PREPROCESSING, META = "model.keras", "preprocessing.pkl", "meta.json"


def save(path: Path, model: keras.Model, preprocessing: Any, schema: Schema) -> Path:
    """Write the artefact at `path` (through a temporary file: never half-written)."""
    meta = schema.as_dict()
    with tempfile.TemporaryDirectory() as folder:
        keras_file = Path(folder) / MODEL
        model.save(keras_file)
        partial = path.with_name(path.name + ".tmp")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zipped:
            zipped.write(keras_file, MODEL)
            zipped.writestr(PREPROCESSING, pickle.dumps(preprocessing))
            zipped.writestr(META, json.dumps(meta, indent=1) + "\n")
        partial.replace(path)
    return path


def classify(model: keras.Model, preprocessing: Any, x: pd.DataFrame,
             batch_size: int | None = None) -> np.ndarray:  # fmt: skip
    """The model's class index of each row of raw features (`Schema.rows`): what the study
    scores on the test rows and what `course predict` answers, by one code path."""
    probabilities = model.predict(preprocessing.transform(x), batch_size=batch_size, verbose=0)
    return probabilities.argmax(axis=1)


@dataclass(frozen=True)
class Predictor:
    """A loaded artefact: `predict` takes a table with the feature columns."""

    model: keras.Model
    preprocessing: Any
    schema: Schema

    def predict(self, frame: pd.DataFrame, where: str) -> list[Any]:
        """The predicted label of every row of `frame` (refused in one line naming `where` if a
        feature column is missing or a value does not fit its column)."""
        rows = self.schema.rows(frame, where)
        return self.schema.label_of(classify(self.model, self.preprocessing, rows))


def load(path: Path) -> Predictor:
    from course import backend

    backend.configure()
    import keras

    if not path.is_file():
        raise CourseError(f"{path}: no such model file")
    try:
        with zipfile.ZipFile(path) as zipped:
            meta = json.loads(zipped.read(META))
            preprocessing = pickle.loads(zipped.read(PREPROCESSING))
            with tempfile.TemporaryDirectory() as folder:
                keras_file = Path(folder) / MODEL
                keras_file.write_bytes(zipped.read(MODEL))
                model = keras.saving.load_model(keras_file, compile=False)  # predicts only
    except (zipfile.BadZipFile, KeyError, TypeError, json.JSONDecodeError,
            pickle.UnpicklingError) as exc:  # fmt: skip
        raise CourseError(f"{path}: not a course model file ({exc})") from None
    return Predictor(model, preprocessing, Schema.from_dict(meta))
