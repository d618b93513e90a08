"""The live board's read model: open alerts and measurements from the output topics,
what supervisors did about each incident, and today's figures."""
