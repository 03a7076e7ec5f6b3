"""Text: UDHR parsing, words and alignment (`udhr`), the train / held-out UDHR corpus
(`udhr_corpus`), and language → texts loading for continued pre-training (`texts`)."""

from hyperofa.corpus.udhr_corpus import UDHRCorpus

__all__ = ["UDHRCorpus"]
