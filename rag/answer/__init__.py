"""From candidate passages to a cited answer: evidence, decisions, composition, validation."""
