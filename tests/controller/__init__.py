"""Tests of kframe.controller (a package, so its module names do not clash with other folders')."""
