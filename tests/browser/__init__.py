"""The browser test of the built book (run by `make browser-test`, after `make book`)."""
