"""Development tools: the simulator, the benchmark and the demo.

Nothing in the product imports them (an import contract in pyproject.toml says so).
"""
