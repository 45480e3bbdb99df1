"""The Ceramic write path: chunk content -> planned events -> outbox -> node, and read-back."""
