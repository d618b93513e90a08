"""Adapters over Kafka: client settings, topics, partitioning, publishing, the board's
feed, a partner's view of a topic, and the embedded broker."""
