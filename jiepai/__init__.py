"""Jiepai (节拍): a self-hosted CRM that keeps the rhythm of a B2B sales line."""
