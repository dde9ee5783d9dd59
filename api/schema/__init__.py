"""GraphQL adapters over the same services as REST."""
