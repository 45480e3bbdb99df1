import dagster as dg

# One partition per inbox document; keys use only [A-Za-z0-9_-] (documents.identity.partition_key).
documents = dg.DynamicPartitionsDefinition(name="documents")
