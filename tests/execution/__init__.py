"""Tests of hptaa_lab.execution."""
