"""Models for an extended vocabulary, behind one seam per model family (`family.ModelFamily`).

Plain models are saved in their source architecture's own format; factorized ones are a
`FactorizedForMaskedLM` or `FactorizedForCausalLM` saved with its modeling file, so
`AutoModelForMaskedLM` / `AutoModelForCausalLM.from_pretrained` loads either with no hyperofa
installed (`trust_remote_code=True` for the factorized one).
"""

from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForMaskedLM

from hyperofa.models.build import assemble, assemble_factorized, assemble_plain, check_shapes
from hyperofa.models.causal import CAUSAL_DECODER, CausalDecoderFamily
from hyperofa.models.chunked_loss import causal_lm_loss, chunk_tokens, token_losses
from hyperofa.models.common import LossOutput
from hyperofa.models.family import (
    FAMILIES,
    MASKED_ENCODER,
    MaskedEncoderFamily,
    ModelFamily,
    family_of,
    load,
)
from hyperofa.models.freeze import FrozenRows, freeze_source_rows
from hyperofa.models.heads import encoder, masked_lm_loss
from hyperofa.models.merge import merge, merge_dir
from hyperofa.models.modeling_factorized import (
    MODEL_TYPE,
    FactorizedConfig,
    FactorizedEmbedding,
    FactorizedForMaskedLM,
)
from hyperofa.models.modeling_factorized_causal import MODEL_TYPE as CAUSAL_MODEL_TYPE
from hyperofa.models.modeling_factorized_causal import (
    FactorizedCausalConfig,
    FactorizedCausalEmbedding,
    FactorizedForCausalLM,
)

# save_pretrained writes `auto_map` and copies modeling_factorized.py beside the weights
FactorizedConfig.register_for_auto_class()
FactorizedForMaskedLM.register_for_auto_class("AutoModelForMaskedLM")
# in a process that imported hyperofa, the Auto classes load a factorized dir without remote code
AutoConfig.register(MODEL_TYPE, FactorizedConfig, exist_ok=True)
AutoModelForMaskedLM.register(FactorizedConfig, FactorizedForMaskedLM, exist_ok=True)
FactorizedCausalConfig.register_for_auto_class()
FactorizedForCausalLM.register_for_auto_class("AutoModelForCausalLM")
AutoConfig.register(CAUSAL_MODEL_TYPE, FactorizedCausalConfig, exist_ok=True)
AutoModelForCausalLM.register(FactorizedCausalConfig, FactorizedForCausalLM, exist_ok=True)

__all__ = [
    "CAUSAL_DECODER",
    "CAUSAL_MODEL_TYPE",
    "FAMILIES",
    "MASKED_ENCODER",
    "MODEL_TYPE",
    "CausalDecoderFamily",
    "FactorizedCausalConfig",
    "FactorizedCausalEmbedding",
    "FactorizedConfig",
    "FactorizedEmbedding",
    "FactorizedForCausalLM",
    "FactorizedForMaskedLM",
    "FrozenRows",
    "LossOutput",
    "MaskedEncoderFamily",
    "ModelFamily",
    "assemble",
    "assemble_factorized",
    "assemble_plain",
    "causal_lm_loss",
    "check_shapes",
    "chunk_tokens",
    "encoder",
    "family_of",
    "freeze_source_rows",
    "load",
    "masked_lm_loss",
    "merge",
    "merge_dir",
    "token_losses",
]
