from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from hyperofa.cli import CONF_DIR
from hyperofa.config.enums import AnchorSpace, Initializer
from hyperofa.config.initializers import INITIALIZER_CONFIGS, FocusConfig, OMPConfig
from hyperofa.config.validate import initializer_config
from hyperofa.init.registry import BUILDERS, build_initializer, static_vectors_config


@pytest.mark.parametrize("name", list(Initializer))
def test_every_initializer_has_a_config_a_yaml_with_its_fields_and_a_builder(name):
    node = yaml.safe_load((Path(CONF_DIR) / "initializer" / f"{name}.yaml").read_text())
    cfg = initializer_config(node)
    assert cfg == INITIALIZER_CONFIGS[name]()  # the YAML holds the defaults, commented
    assert set(node) == {f.name for f in fields(cfg)}  # every field is in the YAML
    assert name == Initializer.hyperofa or build_initializer(cfg).name == name
    assert set(BUILDERS) == set(Initializer) - {Initializer.hyperofa}


def test_static_vectors_are_needed_by_focus_and_static_omp_only():
    assert static_vectors_config(FocusConfig()) == FocusConfig().static
    assert static_vectors_config(OMPConfig()) is None
    assert static_vectors_config(OMPConfig(space=AnchorSpace.static)) == OMPConfig().static
