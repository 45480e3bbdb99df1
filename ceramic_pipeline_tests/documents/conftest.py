"""Fixtures for the documents layer: sample documents and a tiny local tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest
from docling_core.types.doc import DoclingDocument

from ceramic_pipeline.documents import load_document
from ceramic_pipeline.samples import sample_documents_dir

SAMPLE_NAMES = ("glaze-firing-guide.json", "kiln-maintenance-log.json", "studio-safety-notes.json")


@pytest.fixture(scope="session")
def samples() -> dict[str, DoclingDocument]:
    return {name: load_document(sample_documents_dir() / name) for name in SAMPLE_NAMES}


@pytest.fixture(scope="session")
def wordpiece_tokenizer_dir(tmp_path_factory, samples) -> Path:
    """A real (small) BERT-style WordPiece tokenizer, trained on the samples and saved
    the way Hugging Face tokenizers are shipped, so HybridChunker loads it from disk."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    corpus = [item.text for doc in samples.values() for item in doc.texts]
    tokenizer.train_from_iterator(corpus, trainer=trainers.WordPieceTrainer(vocab_size=2000, special_tokens=specials))
    target = tmp_path_factory.mktemp("wordpiece")
    PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    ).save_pretrained(target)
    return target
