"""Language knowledge shared by ingestion, retrieval and answering: lexicons, quantities,
years and question normalisation."""
