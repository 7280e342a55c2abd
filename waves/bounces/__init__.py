"""Listening: bounces and complaints come back, and each suppresses whom it should.

verp (the signed return path), reports (one parser for every way in), intake (reports to
events), policy (events to suppressions), breaker (a wave that bounces too much pauses).
"""
