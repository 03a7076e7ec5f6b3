"""Loaders for the evaluation data in its published layouts, given by local path.

Each layout (`LAYOUTS`) is the one its public source writes: LASER/XTREME and Glot500 Tatoeba,
PBC and Glot500 Bible pairs, XTREME/Glot500 PAN-X and raw WikiANN, UD releases and the
XTREME/Glot500 udpos files, Taxi1500. Every loader fails with a named error that says what layout
it expected: MissingPathError when a file is absent (listing the languages found),
BadFileError (with the line number) when a line is malformed, EmptyInputError when nothing is
left. `check_parallel` and `SplitData.check` are the cheap start-up checks: they find every file a
task will read and read its first lines in the same way.
"""

from hyperofa.evaluate.datasets.bible import bible_sources
from hyperofa.evaluate.datasets.layouts import LAYOUTS, layout
from hyperofa.evaluate.datasets.parallel import (
    ParallelSource,
    check_parallel,
    load_parallel,
    tatoeba_sources,
)
from hyperofa.evaluate.datasets.pbc import read_bible
from hyperofa.evaluate.datasets.splits import (
    SplitData,
    SplitLayout,
    ner_data,
    pos_data,
    taxi1500_data,
)
from hyperofa.evaluate.datasets.tagged import TaggedSentence, read_tagged
from hyperofa.evaluate.datasets.taxi1500 import TAXI1500_CLASSES, LabelledText, read_taxi1500
from hyperofa.evaluate.datasets.ud import (
    ConlluSentence,
    read_conllu,
    read_treebank,
    read_ud_pos,
)

__all__ = [
    "LAYOUTS",
    "TAXI1500_CLASSES",
    "ConlluSentence",
    "LabelledText",
    "ParallelSource",
    "SplitData",
    "SplitLayout",
    "TaggedSentence",
    "bible_sources",
    "check_parallel",
    "layout",
    "load_parallel",
    "ner_data",
    "pos_data",
    "read_bible",
    "read_conllu",
    "read_tagged",
    "read_taxi1500",
    "read_treebank",
    "read_ud_pos",
    "taxi1500_data",
    "tatoeba_sources",
]
