"""Adapters over Faust: the incident table store, a consumer made safe at the end of a
rebalance, the embedded broker's consumer, and Faust's per-message path tuned."""
