"""``cdi-monitor``: the command line. Its modules parse arguments and call the monitor."""
