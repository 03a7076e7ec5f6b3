"""Text: UDHR parsing, words and alignment (`udhr`), the train / held-out UDHR corpus
(`udhr_corpus`), language → texts for continued pre-training (`texts`), and corpora of any size
read in batches (`streams`) into per-language Arrow files (`collect`)."""

from hyperofa.corpus.udhr_corpus import UDHRCorpus

__all__ = ["UDHRCorpus"]
