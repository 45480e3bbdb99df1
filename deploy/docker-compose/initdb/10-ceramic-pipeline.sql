-- The pipeline's own database lives next to Dagster's instance database (POSTGRES_DB=dagster),
-- owned by the same role. Runs once, when the data volume is first initialised.
CREATE DATABASE ceramic_pipeline;
