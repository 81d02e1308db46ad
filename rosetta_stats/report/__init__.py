"""The end-to-end report, its figures and the demo."""
