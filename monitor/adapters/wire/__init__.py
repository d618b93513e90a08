"""The wire at the edge: contract events to domain inputs and domain facts to contract events;
the worker's own internal messages."""
