"""Unigram extension: appended pieces' score rule (shift and floor) on a hand-written spec."""

import math

from hyperofa.vocab.unigram import append_pieces


def test_append_pieces_scores_shift_and_floor_and_leave_the_spec_alone():
    spec = {
        "added_tokens": [],
        "model": {
            "type": "Unigram",
            "unk_id": 0,
            "vocab": [["<unk>", 0.0], ["a", -2.0], ["▁b", -9.0]],
        },
    }
    pieces = [("a", -1.0), ("▁ab", -1.5), ("▁zz", -30.0), ("▁ab", -4.0)]
    target, added = append_pieces(spec, pieces)
    shift = math.log(len(pieces) / 3)
    assert added == 2
    assert target["model"]["vocab"][3:] == [["▁ab", -1.5 + shift], ["▁zz", -9.0]]
    assert len(spec["model"]["vocab"]) == 3
