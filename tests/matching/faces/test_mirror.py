"""The stored embedding: the normalised mean of the aligned face's and its mirror's.

A real worker embeds a real photo; the test recomputes the two embeddings
separately through the engine from the same detection and alignment.
"""

from __future__ import annotations

import numpy as np
import pytest

from matching.faces import Box, cosine_distance, current_model_version, get_engine, upright_region
from matching.faces.deepface_engine import EMBEDDING_METHOD, EMBEDDING_REVISION
from matching.models import Face
from tests import builders

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_stores_the_mean_of_the_face_and_its_mirror(make_user, photo_bytes, run_worker):
    photo = builders.photo(data=photo_bytes("img20.jpg"), case=builders.case(family=make_user()))
    run_worker()
    face = Face.objects.get(photo=photo)
    stored = np.asarray(face.embedding, dtype=np.float64)

    engine = get_engine()
    with photo.image.open("rb") as handle:
        region, inner = upright_region(
            handle, Box(face.box_x, face.box_y, face.box_w, face.box_h), rotation=face.rotation
        )
    aligned = engine.align(region, inner)
    (original,) = engine.embed_aligned([aligned])
    (mirrored,) = engine.embed_aligned([aligned[:, ::-1]])
    mean = (original + mirrored) / 2
    expected = mean / np.linalg.norm(mean)

    assert np.linalg.norm(stored) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(stored, expected, atol=1e-5)
    # Not the plain embedding: the mirror moves it, by about 0.003-0.004 here.
    assert cosine_distance(stored, original) > 1e-3
    assert np.abs(stored - original).max() > 1e-3
    assert cosine_distance(original, mirrored) > 1e-3

    assert face.model_version == current_model_version() == engine.model_version
    assert face.model_version.endswith(f"/Dlib/dlib/{EMBEDDING_METHOD}/{EMBEDDING_REVISION}")
    assert face.model_version.startswith("deepface-0.0.103/")
