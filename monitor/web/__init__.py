"""The supervisors' live board: incidents near or past the 24-hour recording point.

- ``facts``     wire events (``recording-alerts``, ``recording-outcomes``) to plain values
- ``view``      the board's state and the rows, counts and filters shown (pure)
- ``figures``   today's figures per division (pure)
- ``handling``  what supervisors did to an incident, folded from their actions (pure)
- ``feed``      the Kafka consumer that keeps the view current, over all partitions
- ``store``     users, sessions, actions and the audit trail in the ledger database
- ``security``  password hashes, session tokens, CSRF tokens, roles, sign-in throttling
- ``web``       the aiohttp application (``context`` shared parts, ``access`` sign-in,
  sessions, CSRF; ``api`` board, events, history, actions; ``admin`` users)
- ``users_command`` the ``cdi-monitor users`` command; ``run`` the ``board`` command
"""
