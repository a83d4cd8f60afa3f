"""The version of Distill this is (a leaf: the CLI, the server and the history table read it)."""

VERSION = "0.1.0"
