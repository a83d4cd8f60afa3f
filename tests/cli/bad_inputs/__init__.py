"""The bad-input corpus: tables of user mistakes, run by tests/cli/test_bad_inputs.py."""
