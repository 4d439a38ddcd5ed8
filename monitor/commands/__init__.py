"""One module per subcommand, each with ``register(subparsers)``.

``monitor.cli`` finds them by listing this package, so a subcommand exists only once
its module (and its real implementation) does.
"""
