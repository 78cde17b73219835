"""opsplay: versioned YAML playbooks for operations teams."""

__version__ = "0.1.0"
