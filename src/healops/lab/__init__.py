"""The lab: a seeded simulated estate with fault injection and a scoreboard.

The engine sees the estate only through telemetry (metric batches and change events) and
changes it only through an executor. Ground truth stays in here, for the scoreboard.
"""
