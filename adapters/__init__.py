"""Adapters: the frameworks and I/O behind the domain's ports (MindSpore, Pillow, run folders, progress)."""
