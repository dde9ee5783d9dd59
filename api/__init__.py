"""Giảm Nghèo API: the registry of the National Target Program on Sustainable Poverty Reduction."""
