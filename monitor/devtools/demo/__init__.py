"""``cdi-monitor demo``: the whole monitor on embedded defaults, on an accelerated clock."""
