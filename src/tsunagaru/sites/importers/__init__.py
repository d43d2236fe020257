"""Importers: pure parsers (bytes in, records and a validation report out) and the adapter that applies them.

``wifi_list`` reads the national standard public Wi-Fi list (自治体標準オープンデータセット
「公衆無線LANアクセスポイント一覧」) and other registries' column layouts through header aliases;
``ap_inventory`` reads the per-site AP inventory CSV; ``report`` holds the typed problems;
``apply`` diffs records against the store and writes them (idempotently, audited).
"""
