"""Configuration: the official recipe by default, validated values, data presets, a lossless round trip."""
import json

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.config import LOSS_KINDS, PRESETS, NetworkConfig, PyramidConfig, SinGANConfig, TrainConfig, preset
from domain.errors import ConfigError, SinGANError
from tests import strategies as gen


def test_defaults_are_the_official_singan_recipe():
    cfg = SinGANConfig()
    assert (cfg.pyramid.min_size, cfg.pyramid.max_size, cfg.pyramid.scale_factor) == (25, 250, 0.75)
    net = cfg.network
    assert (net.channels, net.double_every, net.min_channels, net.max_channels) == (32, 4, 32, 128)
    assert (net.kernel_size, net.num_layers) == (3, 5)
    train = cfg.train
    assert (train.iterations, train.critic_steps, train.generator_steps) == (2000, 3, 3)
    assert (train.lr_generator, train.lr_critic) == (5e-4, 5e-4)
    assert (train.beta1, train.beta2) == (0.5, 0.999)
    assert (train.lr_milestone, train.lr_drop_factor) == (1600, 0.1)
    assert (train.gp_weight, train.reconstruction_weight) == (0.1, 10.0)
    assert train.noise_amp_base == 0.1
    assert train.loss == "wgan-gp"
    # The official code's details: grey coarsest noise, PyTorch's conv bias init, a fresh z* every
    # iteration at the coarsest scale, generator steps through the last critic step's fake, and
    # MATLAB-style bicubic resampling.
    assert (net.coarsest_noise_channels, net.bias_init) == (1, "uniform")
    assert (train.reconstruction_noise, train.generator_fake) == ("redraw", "stale")
    assert cfg.pyramid.resampling == "bicubic"


def test_the_paper_preset_is_exactly_the_defaults():
    assert preset("paper") == SinGANConfig()
    assert preset("paper").to_dict() == SinGANConfig().to_dict()


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_changes_only_the_fields_it_lists(name):
    changed = preset(name).to_dict()
    default = SinGANConfig().to_dict()
    differing = {
        f"{section}.{field}"
        for section, fields in default.items()
        for field, value in fields.items()
        if changed[section][field] != value
    }
    assert differing <= set(PRESETS[name])
    for dotted, value in PRESETS[name].items():
        section, field = dotted.split(".")
        assert changed[section][field] == value


def test_an_unknown_preset_is_a_config_error_listing_the_choices():
    with pytest.raises(ConfigError, match="unknown preset 'fast'") as raised:
        preset("fast")
    for name in PRESETS:
        assert name in str(raised.value)


# (section class, field, a value its validator refuses)
OUT_OF_RANGE = [
    (PyramidConfig, "min_size", 7),
    (PyramidConfig, "min_size", 25.0),
    (PyramidConfig, "max_size", 0),
    (PyramidConfig, "scale_factor", 0.29),
    (PyramidConfig, "scale_factor", 0.95),
    (PyramidConfig, "scale_factor", "0.75"),
    (NetworkConfig, "channels", 0),
    (NetworkConfig, "double_every", 0),
    (NetworkConfig, "min_channels", -1),
    (NetworkConfig, "kernel_size", 4),
    (NetworkConfig, "kernel_size", 0),
    (NetworkConfig, "num_layers", 1),
    (TrainConfig, "iterations", 0),
    (TrainConfig, "iterations", True),
    (TrainConfig, "critic_steps", 0),
    (TrainConfig, "generator_steps", 0),
    (TrainConfig, "lr_generator", 0.0),
    (TrainConfig, "lr_critic", 1.5),
    (TrainConfig, "beta1", -0.1),
    (TrainConfig, "beta2", 1.0),
    (TrainConfig, "lr_milestone", -1),
    (TrainConfig, "reconstruction_noise", "sometimes"),
    (TrainConfig, "generator_fake", "recycled"),
    (NetworkConfig, "coarsest_noise_channels", 2),
    (NetworkConfig, "bias_init", "kaiming"),
    (PyramidConfig, "resampling", "nearest"),
    (TrainConfig, "lr_drop_factor", 0.0),
    (TrainConfig, "gp_weight", -1.0),
    (TrainConfig, "gp_weight", float("nan")),
    (TrainConfig, "reconstruction_weight", float("inf")),
    (TrainConfig, "noise_amp_base", 11.0),
    (TrainConfig, "loss", "hinge"),
    (TrainConfig, "seed", -1),
]


@pytest.mark.parametrize(("kind", "field", "value"), OUT_OF_RANGE, ids=lambda v: repr(v))
def test_an_out_of_range_value_is_a_config_error_naming_the_field(kind, field, value):
    with pytest.raises(ConfigError, match=rf"{kind.__name__}\.{field}\b"):
        kind(**{field: value})


@given(st.integers(max_value=7))
def test_a_min_size_under_eight_pixels_is_refused(min_size):
    with pytest.raises(ConfigError, match=r"PyramidConfig\.min_size"):
        PyramidConfig(min_size=min_size)


@given(st.floats(allow_nan=True).filter(lambda v: not 0.3 <= v <= 0.9))
def test_a_scale_factor_outside_the_safe_range_is_refused(scale_factor):
    with pytest.raises(ConfigError, match=r"PyramidConfig\.scale_factor"):
        PyramidConfig(scale_factor=scale_factor)


@given(st.data())
def test_max_size_under_min_size_is_refused_naming_both(data):
    min_size = data.draw(st.integers(9, 1000))
    max_size = data.draw(st.integers(8, min_size - 1))
    with pytest.raises(ConfigError, match=r"max_size.*min_size"):
        PyramidConfig(min_size=min_size, max_size=max_size)


@given(st.data())
def test_max_channels_under_min_channels_is_refused_naming_both(data):
    min_channels = data.draw(st.integers(2, 512))
    max_channels = data.draw(st.integers(1, min_channels - 1))
    with pytest.raises(ConfigError, match=r"max_channels.*min_channels"):
        NetworkConfig(min_channels=min_channels, max_channels=max_channels)


def test_config_errors_are_singan_errors_and_value_errors():
    with pytest.raises(SinGANError):
        TrainConfig(iterations=0)
    with pytest.raises(ValueError):
        TrainConfig(iterations=0)


def test_configs_are_frozen():
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        SinGANConfig().train.iterations = 1  # type: ignore[misc]


@given(gen.singan_configs())
def test_to_dict_and_from_dict_round_trip(cfg):
    assert SinGANConfig.from_dict(cfg.to_dict()) == cfg


@given(gen.singan_configs())
def test_to_dict_is_plain_json(cfg):
    assert SinGANConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_from_dict_fills_missing_sections_and_fields_with_defaults():
    cfg = SinGANConfig.from_dict({"train": {"iterations": 10}})
    assert cfg == attrs.evolve(SinGANConfig(), train=TrainConfig(iterations=10))


def test_from_dict_refuses_an_unknown_section():
    with pytest.raises(ConfigError, match="optimizer"):
        SinGANConfig.from_dict({"optimizer": {}})


def test_from_dict_refuses_an_unknown_field_as_a_config_error_naming_it():
    with pytest.raises(ConfigError, match="iteratons"):
        SinGANConfig.from_dict({"train": {"iteratons": 10}})


@given(gen.singan_configs(), gen.singan_configs(), st.data())
def test_with_overrides_sets_exactly_the_named_fields(base, source, data):
    flat = {
        f"{section}.{field}": value for section, fields in source.to_dict().items() for field, value in fields.items()
    }
    # Whole sections of another valid config: single fields could break max >= min within a section.
    sections = data.draw(st.sets(st.sampled_from(["pyramid", "network", "train"])))
    overrides = {k: v for k, v in flat.items() if k.split(".")[0] in sections}
    result = base.with_overrides(overrides)
    for section in ("pyramid", "network", "train"):
        expected = getattr(source if section in sections else base, section)
        assert getattr(result, section) == expected


@given(gen.singan_configs(), st.integers(1, 10_000))
def test_with_overrides_leaves_the_original_unchanged(cfg, iterations):
    before = cfg.to_dict()
    result = cfg.with_overrides({"train.iterations": iterations})
    assert result.train.iterations == iterations
    assert result == attrs.evolve(cfg, train=attrs.evolve(cfg.train, iterations=iterations))
    assert cfg.to_dict() == before


@pytest.mark.parametrize("dotted", ["train.iteratons", "trainer.iterations", "iterations", "train."])
def test_with_overrides_refuses_an_unknown_field_naming_it(dotted):
    with pytest.raises(ConfigError, match="unknown configuration field") as raised:
        SinGANConfig().with_overrides({dotted: 1})
    assert repr(dotted) in str(raised.value)


def test_with_overrides_validates_the_new_value():
    with pytest.raises(ConfigError, match=r"TrainConfig\.loss"):
        SinGANConfig().with_overrides({"train.loss": "hinge"})


def test_loss_kinds_include_the_official_wgan_gp():
    assert "wgan-gp" in LOSS_KINDS
    for kind in LOSS_KINDS:
        assert TrainConfig(loss=kind).loss == kind


def test_a_stored_config_from_before_the_official_details_keeps_the_behaviour_it_trained_with():
    old = SinGANConfig().to_dict()
    for section, name in [("pyramid", "resampling"), ("network", "coarsest_noise_channels"), ("network", "bias_init"),
                          ("train", "reconstruction_noise"), ("train", "generator_fake"), ("train", "lr_milestone")]:
        del old[section][name]
    old["train"]["iterations"] = 200
    old["train"]["lr_drop_at"] = 0.8
    cfg = SinGANConfig.from_stored(old)
    assert cfg.pyramid.resampling == "linear"
    assert (cfg.network.coarsest_noise_channels, cfg.network.bias_init) == (3, "zero")
    assert (cfg.train.reconstruction_noise, cfg.train.generator_fake) == ("fixed", "fresh")
    assert cfg.train.lr_milestone == 160  # 80% of 200 iterations, as that run dropped


@given(gen.singan_configs())
def test_a_stored_current_config_reads_back_unchanged(cfg):
    assert SinGANConfig.from_stored(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_the_quick_preset_is_the_official_recipe_made_smaller():
    from domain.config import preset

    quick, paper = preset("quick"), preset("paper")
    assert (quick.pyramid.max_size, quick.network.max_channels, quick.train.iterations) == (96, 32, 200)
    # every official detail, the generator steps included
    assert quick.train.generator_fake == paper.train.generator_fake == "stale"
    assert quick.train.reconstruction_noise == "redraw"
