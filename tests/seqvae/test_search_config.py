"""The search methods' options: frozen configs, validated once, and their keyword form."""
import dataclasses

import numpy as np
import pytest

from automata.families import cerny
from seqvae.errors import SearchError
from seqvae.hunt.search import (
    BoostConfig,
    EvolveConfig,
    HybridConfig,
    LatentConfig,
    OptionError,
    RandomConfig,
    SearchContext,
    method_config,
    search_extreme,
)
from seqvae.hunt.search.evolve import EvolutionarySearch
from seqvae.hunt.search.runner import METHODS, method_class


def test_every_method_has_a_frozen_config_with_valid_defaults():
    for name in METHODS:
        config = method_class(name).config_class()
        assert dataclasses.is_dataclass(config)
        with pytest.raises(dataclasses.FrozenInstanceError):
            config.__setattr__(dataclasses.fields(config)[0].name, 1)
        assert method_config(name) == config


@pytest.mark.parametrize("cls,options,option", [
    (RandomConfig, {"batch": 0}, "batch"),
    (EvolveConfig, {"population": 0}, "population"),
    (EvolveConfig, {"closure_margin": -1}, "closure_margin"),
    (EvolveConfig, {"restart_kind": "sideways"}, "restart_kind"),
    (EvolveConfig, {"elite_rate": 1.5}, "elite_rate"),
    (EvolveConfig, {"lift_share": 0.5}, "lift_share"),          # without lift_from
    (EvolveConfig, {"lift_from": ["/no/such/file.txt"]}, "lift_from"),
    (EvolveConfig, {"lift_from": [cerny(4)], "lift_arrows": 5}, "lift_arrows"),
    (EvolveConfig, {"lift_from": [cerny(4)], "lift_share": 0}, "lift_share"),
    (LatentConfig, {"sigma": 0}, "sigma"),
    (LatentConfig, {"sample_share": -0.1}, "sample_share"),
    (BoostConfig, {"temperature": 0}, "temperature"),
    (BoostConfig, {"rank_lifts": True}, "rank_lifts"),           # without lifts
    (BoostConfig, {"transfer_from": "/no/such/file.txt"}, "transfer_from"),
    (BoostConfig, {"lift_ranker_options": {"steps": 0}}, "steps"),
    (HybridConfig, {"evolve_options": {"patience": 0}}, "patience"),
    (EvolveConfig, {"bogus": 1}, "bogus"),
])
def test_a_bad_option_is_refused_once_with_its_name(cls, options, option):
    with pytest.raises(OptionError) as info:
        cls.from_options(options)
    assert info.value.option == option and str(info.value).startswith(option)
    assert isinstance(info.value, SearchError) and isinstance(info.value, ValueError)


def test_keywords_map_onto_the_config_and_nested_options_update_it():
    config = BoostConfig.from_options({"vae_steps": 3, "train_top": 50,
                                       "latent_options": {"batch": 32},
                                       "evolve_options": {"patience": 2}})
    # the latent proposals retrain with boost's own steps, as before the configs
    assert (config.latent.batch, config.latent.retrain_steps, config.latent.retrain_top) == (
        32, 3, 50)
    assert config.evolve.patience == 2 and config.evolve.population == 128
    again = BoostConfig.from_options({"evolve_options": {"population": 16}}, config)
    assert (again.evolve.patience, again.evolve.population) == (2, 16)
    assert BoostConfig().latent_proposals().retrain_steps == BoostConfig().vae_steps


def test_boost_widens_ranked_lifts_where_they_were_left_to_it():
    lifted = BoostConfig.from_options({"evolve_options": {"lift_from": [cerny(4)]}})
    local = lifted.local_search()
    assert (local.lift_arrows, local.lift_any_images, local.lift_share) == (2, True, 1.0)
    mine = BoostConfig.from_options({"evolve_options": {"lift_from": [cerny(4)],
                                                        "lift_arrows": 1}})
    assert mine.local_search().lift_arrows == 1
    plain = BoostConfig.from_options({"rank_lifts": False,
                                      "evolve_options": {"lift_from": [cerny(4)]}})
    assert not plain.ranked and plain.local_search().lift_arrows is None


def test_a_config_and_its_keywords_give_the_same_search():
    ctx = lambda: SearchContext(5, 2, 10, np.random.default_rng(0))  # noqa: E731
    config = EvolveConfig(population=16, closure_margin=None)
    assert EvolutionarySearch(ctx(), config).config == EvolutionarySearch(
        ctx(), population=16, closure_margin=None).config
    with pytest.raises(OptionError, match="must be an instance of EvolveConfig"):
        EvolutionarySearch(ctx(), LatentConfig())
    a = search_extreme(5, 2, "evolve", budget=300, seed=3, write_results=False, config=config)
    b = search_extreme(5, 2, "evolve", budget=300, seed=3, write_results=False,
                       method_options={"population": 16, "closure_margin": None})
    np.testing.assert_array_equal(a.tables, b.tables)


@pytest.mark.parametrize("flags,message", [
    (["--restarts", "sideways"], "--restarts must be one of uniform, high-rank"),
    (["--closure-margin", "-3"], "--closure-margin must be an integer >= 0"),
    (["--lift-share", "0.3"], "--lift-share only applies with --lift-from"),
    (["-m", "boost", "--transfer-from", "/no/such.txt"], "--transfer-from has no such file"),
    (["-m", "random", "--copy-moves"], "--copy-moves only applies to --method evolve, hybrid "
                                      "or boost"),
])
def test_the_command_line_reports_the_configs_checks_with_its_flags(flags, message):
    from typer.testing import CliRunner

    from seqvae.cli import app

    result = CliRunner().invoke(app, ["search-extreme", "-n", "5", "-b", "10", *flags])
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
