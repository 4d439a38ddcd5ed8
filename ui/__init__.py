"""The PyQt6 + pyqtgraph GUI. It shows and commands the core; no signal processing here."""
