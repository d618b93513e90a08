"""Helpers the test suites share: real infrastructure for integration tests."""
