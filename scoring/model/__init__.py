"""The scoring model: its schema, loading and validation, writing back to YAML, and the one way to
derive an edited model from another.

A model is data (one versioned YAML file), so everything that reads, checks or changes one lives
here and nowhere else.
"""
