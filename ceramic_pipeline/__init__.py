"""ceramic-pipeline: Docling chunks as signed, verifiable Ceramic streams."""

from ceramic_pipeline.logs import quiet_third_party

quiet_third_party()  # before anything imports transformers (docling-core's chunker package does)
