"""SympaTherm core: probe sources, pipeline and detector, sessions and exports. Qt-free."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sympatherm")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
