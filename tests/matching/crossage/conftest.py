"""Every photo of ../shared/faces embedded once for the cross-age tests that compare reports."""

from __future__ import annotations

import pytest

from matching import faces
from matching.crossage.embedding import Embedded, embed_all
from matching.crossage.labels import ADULT, YOUNG, LabelledPhoto


@pytest.fixture(scope="package")
def real_embeddings(faces_dir, identities) -> dict[str, Embedded]:
    """Every photo of ../shared/faces, each person's first "young": with ages and without."""
    people: dict[str, list[str]] = {}
    for file, identity in sorted(identities.items()):
        people.setdefault(identity, []).append(file)
    photos = [
        LabelledPhoto(file, identity, YOUNG if index == 0 else ADULT, None)
        for identity, files in sorted(people.items()) for index, file in enumerate(files)
    ]
    engine = faces.get_engine()
    without_ages = embed_all(faces_dir, photos, engine=engine)
    aged = [
        LabelledPhoto(p.file, p.identity, p.group, 6.0 + index % 5 if p.group == YOUNG else
                      28.0 + index % 7)
        for index, p in enumerate(photos)
    ]
    with_ages = Embedded(
        photos=aged, embeddings=without_ages.embeddings, progressed=without_ages.progressed,
        progression_ages=without_ages.progression_ages,
    )
    return {"without ages": without_ages, "with ages": with_ages}
