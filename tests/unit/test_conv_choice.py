"""The rule that picks the convolutions (adapters.mindspore.native.choose; no MindSpore needed)."""
from __future__ import annotations

from pathlib import Path

import pytest

from adapters.mindspore.native import CONV_BACKENDS, choose
from domain.errors import ConfigError

LIBRARY = Path("/cache/singan-conv-0123.so")


def test_auto_takes_the_built_library():
    choice = choose("auto", LIBRARY, "")
    assert (choice.backend, choice.library) == ("onednn", LIBRARY)


def test_auto_without_a_library_falls_back_and_says_why():
    choice = choose("auto", None, "g++ failed: no such file")
    assert (choice.backend, choice.library) == ("mindspore", None)
    assert "g++ failed: no such file" in choice.note


def test_mindspore_is_taken_even_when_the_library_exists():
    assert choose("mindspore", LIBRARY, "").backend == "mindspore"


def test_onednn_without_a_library_is_a_config_error_naming_the_cause():
    with pytest.raises(ConfigError, match="could not be built: headers missing"):
        choose("onednn", None, "headers missing")


def test_an_unknown_choice_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=", ".join(CONV_BACKENDS)):
        choose("cudnn", LIBRARY, "")
