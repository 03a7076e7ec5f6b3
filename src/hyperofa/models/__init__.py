"""Models for an extended vocabulary, behind one seam per model family (`family.ModelFamily`).

Plain models are saved in their source architecture's own format; factorized ones are a
`FactorizedForMaskedLM` saved with its modeling file, so `AutoModelForMaskedLM.from_pretrained`
loads either with no hyperofa installed (`trust_remote_code=True` for the factorized one).
"""

from transformers import AutoConfig, AutoModelForMaskedLM

from hyperofa.models.build import assemble, assemble_factorized, assemble_plain, check_shapes
from hyperofa.models.family import (
    FAMILIES,
    MASKED_ENCODER,
    LossOutput,
    MaskedEncoderFamily,
    ModelFamily,
    family_of,
    load,
)
from hyperofa.models.heads import encoder, masked_lm_loss
from hyperofa.models.merge import merge, merge_dir
from hyperofa.models.modeling_factorized import (
    MODEL_TYPE,
    FactorizedConfig,
    FactorizedEmbedding,
    FactorizedForMaskedLM,
)

# save_pretrained writes `auto_map` and copies modeling_factorized.py beside the weights
FactorizedConfig.register_for_auto_class()
FactorizedForMaskedLM.register_for_auto_class("AutoModelForMaskedLM")
# in a process that imported hyperofa, the Auto classes load a factorized dir without remote code
AutoConfig.register(MODEL_TYPE, FactorizedConfig, exist_ok=True)
AutoModelForMaskedLM.register(FactorizedConfig, FactorizedForMaskedLM, exist_ok=True)

__all__ = [
    "FAMILIES",
    "MASKED_ENCODER",
    "MODEL_TYPE",
    "FactorizedConfig",
    "FactorizedEmbedding",
    "FactorizedForMaskedLM",
    "LossOutput",
    "MaskedEncoderFamily",
    "ModelFamily",
    "assemble",
    "assemble_factorized",
    "assemble_plain",
    "check_shapes",
    "encoder",
    "family_of",
    "load",
    "masked_lm_loss",
    "merge",
    "merge_dir",
]
