"""Offline evaluation of the extractive summarizer: ROUGE against human references (`make eval`)."""
