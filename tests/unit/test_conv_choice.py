"""The rule that picks the convolutions (adapters.mindspore.native.choose; no MindSpore needed)."""
from __future__ import annotations

from pathlib import Path

import pytest

from adapters.mindspore.native import CONV_BACKENDS, check_tuning, choose
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


@pytest.mark.parametrize("environ", [{}, {"SINGAN_CONV_SERIAL_MFLOP": "0"}, {"SINGAN_CONV_SERIAL_MFLOP": "12.5"},
                                     {"SINGAN_NATIVE_STEPS_MFLOP": "0"}, {"SINGAN_NATIVE_STEPS_MFLOP": "1e4"},
                                     {"SINGAN_CONV_LAYOUT": "any,any,nchw"}, {"SINGAN_CONV_LAYOUT": "nchw,nhwc,any"}])
def test_valid_tuning_passes(environ):
    check_tuning(environ)


@pytest.mark.parametrize("environ, message", [
    ({"SINGAN_CONV_SERIAL_MFLOP": "lots"}, "SINGAN_CONV_SERIAL_MFLOP must be a number"),
    ({"SINGAN_CONV_SERIAL_MFLOP": "-1"}, "SINGAN_CONV_SERIAL_MFLOP must be a number"),
    ({"SINGAN_NATIVE_STEPS_MFLOP": "all"}, "SINGAN_NATIVE_STEPS_MFLOP must be a number"),
    ({"SINGAN_CONV_LAYOUT": "any,any"}, "SINGAN_CONV_LAYOUT must be three of nchw, nhwc, any"),
    ({"SINGAN_CONV_LAYOUT": "nchw,nchw,blocked"}, "got 'nchw,nchw,blocked'"),
    ({"SINGAN_CONV_LAYOUT": "NCHW,any,any"}, "SINGAN_CONV_LAYOUT must be"),
])
def test_bad_tuning_is_a_config_error(environ, message):
    with pytest.raises(ConfigError, match=message):
        check_tuning(environ)
