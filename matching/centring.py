"""Centred embeddings: what every face of an age group has in common, taken out.

A face's raw embedding mixes who the person is with what all childhood photos (or all
adult photos) share; subtracting its age group's mean embedding and normalising again
leaves more of the person (docs/MATCHING.md, "Centred embeddings"). Pure functions:
the means come from the portal's own faces (``matching.services.centring``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

YOUNG, ADULT = "young", "adult"
GROUPS = (YOUNG, ADULT)
#: The two stored models, by the name the centring's means carry.
MODELS = ("sface", "dlib")
#: A photo taken at this age or later is an adult's.
ADULT_FROM_AGE = 18.0
#: A group is centred once it holds this many faces of this many different people: the
#: mean of 30 photos lifts as much as the mean of hundreds (issue 23's split-half test).
MIN_FACES = 30
MIN_PEOPLE = 30


def age_group(age_in_photo: float | None, side: str) -> str:
    """Young under 18, adult otherwise; an unknown age: a case's photo is young (the child
    as the family last saw them), a seeker's adult (a photo of themselves today)."""
    if age_in_photo is None:
        return YOUNG if side == "case" else ADULT
    return YOUNG if float(age_in_photo) < ADULT_FROM_AGE else ADULT


def unit(vector: Sequence[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float64)
    norm = np.linalg.norm(array)
    return array / norm if norm > 1e-12 else array


def centre(raw: Sequence[float] | np.ndarray, mean: Sequence[float] | np.ndarray | None
           ) -> np.ndarray:
    """``raw`` minus ``mean``, normalised; the unit raw vector when the group has no mean."""
    vector = unit(raw)
    if mean is None:
        return vector
    moved = vector - np.asarray(mean, dtype=np.float64)
    return unit(moved) if np.linalg.norm(moved) > 1e-12 else vector


def group_mean(
    means: Mapping[str, Mapping[str, Sequence[float] | None]], model: str, group: str
) -> Sequence[float] | None:
    """The mean a centring holds for one model and group (``None``: not centred)."""
    return (means.get(model) or {}).get(group)


def eligible(faces: int, people: int, *, min_faces: int = MIN_FACES,
             min_people: int = MIN_PEOPLE) -> bool:
    """Whether a group holds enough faces of enough people to be centred."""
    return faces >= min_faces and people >= min_people
