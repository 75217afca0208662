"""xinyong (信用): an open public credit information platform with the rule of law built in."""

__version__ = "0.1.0"
