"""The stream processor: Faust agents that decode, call the application, and publish.

Agents hold no business rules. Kafka, Faust and the wire formats stop here.
"""
