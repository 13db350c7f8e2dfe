"""Datasets and DataLoader."""
