"""`hyperofa-assets`: build (or verify and reuse) the embedded default under outputs/assets."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from hyperofa.cli import CONF_DIR
from hyperofa.cli.common import task_wrapper


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")
def main(cfg: DictConfig) -> None:
    from hyperofa.config import to_run_config
    from hyperofa.stages.sources import resolve_sources

    def build():
        run = to_run_config(cfg)
        return resolve_sources(run.model, run.word_vectors, run.langset, run.assets)

    src = task_wrapper(build)
    vectors = src.vectors.value
    print(f"source model: {src.model_dir.value}\nword vectors: {len(vectors):,} × {vectors.dim}")


if __name__ == "__main__":
    main()
