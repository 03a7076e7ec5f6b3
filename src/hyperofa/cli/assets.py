"""`hyperofa-assets`: build (or verify and reuse) the embedded default under outputs/assets."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from hyperofa.cli import CONF_DIR
from hyperofa.cli.common import task_wrapper


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def main(cfg: DictConfig) -> None:
    from hyperofa.config.schema import to_run_config
    from hyperofa.inputs import resolve_sources

    src = task_wrapper(lambda: resolve_sources(to_run_config(cfg)))
    print(
        f"source model: {src.model_dir}\nword vectors: {len(src.word_vectors):,} × {src.word_vectors.dim}"
    )


if __name__ == "__main__":
    main()
